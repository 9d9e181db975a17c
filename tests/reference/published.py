"""Published numbers used by the gravity tests (sources in README.md of this folder)."""

# Yotov et al. (2016), ch. 1 application 3, RTA lags and leads (PPML, exporter-year, importer-year,
# pair fixed effects, international-border x year dummies, 1986-2006 every 4 years).
RTA_LAGS_COEF = {"rta": 0.116, "rta_lag4": 0.288, "rta_lag8": 0.069, "rta_lag12": 0.002}
# Clustered by pair_id, fixest small-sample convention (pyfixest default CRV1).
RTA_LAGS_SE_FIXEST = {"rta": 0.088, "rta_lag4": 0.063, "rta_lag8": 0.049, "rta_lag12": 0.030}

# Book replication archive, TradeWithoutBorder.log (ch. 2 application 1, 2006 PPML).
BORDERS_COEF = {"ln_dist": -0.7912879, "cntg": 0.6736456, "intl_border": -2.47445}

# Book replication archive, RTAsEffects.log (ch. 2 application 2, NAFTA).
NAFTA_STAGE1_RTA = 0.5571853
NAFTA_STAGE1_NOBS = 28482
NAFTA_STAGE1_EXCLUDED = 84
NAFTA_STAGE1_DEVIANCE = 2630487
NAFTA_STAGE2_COEF = {"ln_dist": -0.8475027, "cntg": 0.2940831, "lang": 0.3632659, "clny": 0.2394163}
NAFTA_PAIRS_PREDICTED = 14

# ge_gravity help file (Zylkin), example: partial effect of EU enlargement.
EU_ENLARGEMENT_COEF = 0.224

# RTAsEffects.log, full-endowment loop: summary of dif_change_pi (change of factory-gate prices
# between rounds, over the 4761 rows of 1994) printed after each of the book's 3 rounds.
NAFTA_LOOP_HISTORY = [
    {"mean": 0.9994758, "sd": 0.0031412, "min": 0.978553, "max": 1.000545},
    {"mean": 0.0006048, "sd": 0.0036707, "min": -0.0006441, "max": 0.025059},
    {"mean": -0.0001521, "sd": 0.000977, "min": -0.0066189, "max": 0.0001341},
]

# Yotov et al. (2016), ch. 1 application 1, Table 1 ("Traditional gravity estimates"), 1986-2006
# every 4 years, international flows, SEs clustered by pair. Columns OLS (ln trade on ln Y, ln E and
# gravity variables, positive flows), FIXED EFFECTS (OLS with exporter-year and importer-year
# fixed effects) and PPML (exporter-year and importer-year fixed effects). From the book's printed
# table (3 decimals), cross-checked against the tradepolicy R replication (see README.md).
TABLE1_OLS = {"ln_y": 1.190, "ln_e": 0.908, "ln_dist": -1.002, "cntg": 0.574, "lang": 0.802, "clny": 0.735}
TABLE1_FE = {"ln_dist": -1.216, "cntg": 0.223, "lang": 0.661, "clny": 0.670}
TABLE1_PPML = {"ln_dist": -0.841, "cntg": 0.437, "lang": 0.247, "clny": -0.222}
# Ch. 1 application 2, "distance puzzle" table: the 1986 distance coefficient of the OLS, PPML and
# PPML-with-internal-distance columns (same source and cross-check as Table 1).
DISTANCE_PUZZLE_1986 = {"ols": -1.168, "ppml": -0.859, "ppml_internal_distance": -0.980}
