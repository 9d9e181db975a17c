from kaifang.cli import main

raise SystemExit(main())
