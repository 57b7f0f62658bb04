"""The scikit-learn side of predict_test.go: fits models, pickles them,
and answers predictions, as scikit-learn itself computes them.

Lines in: {"fit": dir} fits every model and pickles each (protocols 2, 4
and 5, and with cloudpickle as MLflow does) into dir, answering {name: [file, ...]}; {"model": name, "fn":
"predict", "columns": [...] or null, "rows": [[...]]} answers {"ok":
result} or {"err": "ValueError: message"}. Numbers may be "nan", "inf",
"-inf".
"""
import json
import os
import pickle
import sys
import warnings

import cloudpickle
import numpy as np
import pandas as pd
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.ensemble import (AdaBoostClassifier, AdaBoostRegressor, VotingClassifier, VotingRegressor, StackingClassifier, StackingRegressor, ExtraTreesClassifier, ExtraTreesRegressor,
                              GradientBoostingClassifier,
                              GradientBoostingRegressor,
                              HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import (ARDRegression, BayesianRidge, ElasticNet, GammaRegressor, HuberRegressor,
                                  Lars, Lasso, LassoLarsIC, LinearRegression, LogisticRegression,
                                  LogisticRegressionCV, MultiTaskLasso, OrthogonalMatchingPursuit,
                                  PassiveAggressiveClassifier, PassiveAggressiveRegressor,
                                  Perceptron, PoissonRegressor, QuantileRegressor, Ridge, RidgeClassifier,
                                  RidgeClassifierCV, RidgeCV, SGDClassifier, SGDRegressor,
                                  TheilSenRegressor, TweedieRegressor)
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.ensemble import BaggingClassifier, BaggingRegressor, IsolationForest
from sklearn.naive_bayes import BernoulliNB, CategoricalNB, ComplementNB, MultinomialNB
from sklearn.neighbors import LocalOutlierFactor, NearestCentroid
from sklearn.svm import LinearSVR
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, MissingIndicator, SimpleImputer
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.feature_selection import RFE, RFECV, SelectFromModel, SelectKBest, SelectPercentile, VarianceThreshold, f_classif
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.cross_decomposition import CCA, PLSCanonical, PLSRegression
from sklearn.gaussian_process import GaussianProcessClassifier, GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, DotProduct, ExpSineSquared, Matern, RationalQuadratic, WhiteKernel
from sklearn.kernel_approximation import Nystroem, RBFSampler
from sklearn.kernel_ridge import KernelRidge
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier, MultiOutputRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (Binarizer, FunctionTransformer, KBinsDiscretizer, MaxAbsScaler, MinMaxScaler, Normalizer, OneHotEncoder,
                                   OrdinalEncoder, PolynomialFeatures, PowerTransformer, QuantileTransformer, SplineTransformer,
                                   RobustScaler, StandardScaler)
from sklearn.svm import SVC, SVR, LinearSVC, NuSVC, NuSVR, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

warnings.simplefilter("ignore")
rng = np.random.RandomState(7)
N, F = 200, 5
cols = ["a", "b", "c", "d", "e"]
X = rng.normal(size=(N, F)) * [1, 10, 0.1, 100, 1] + [0, 5, 0, -50, 2]
Xdf = pd.DataFrame(X, columns=cols)
# A grid of small integers: tree thresholds fall on the halves, which the
# inputs then hit exactly.
G = rng.randint(0, 5, size=(N, F)).astype(float)
Gdf = pd.DataFrame(G, columns=cols)
y = X @ [1.5, -0.2, 3, 0.01, 0] + rng.normal(size=N)
y2 = np.c_[y, -y + rng.normal(size=N)]
yb = (y > np.median(y)).astype(int)
ys = np.array(["cat", "dog", "emu"], dtype=object)[np.digitize(y, np.quantile(y, [0.33, 0.66]))]
y10 = np.digitize(y, np.quantile(y, np.linspace(0.1, 0.9, 9)))
yg = G @ [1, -2, 0.5, 0, 3] + rng.normal(size=N)
ygs = np.array(["lo", "mid", "hi"], dtype=object)[np.digitize(yg, np.quantile(yg, [0.33, 0.66]))]

# Mixed data: numbers with NaN, text with None (categories).
C = pd.DataFrame({
    "a": np.where(rng.rand(N) < 0.1, np.nan, rng.normal(size=N)),
    "city": rng.choice(["NY", "SF", "LA", None], size=N),
    "b": rng.normal(size=N) * 10,
    "color": rng.choice(["red", "blue"], size=N),
})
yc = np.where(C["city"].eq("NY"), "ny", np.where(C["a"].fillna(0) > 0, "pos", "neg"))
ycr = C["a"].fillna(0) * 2 + C["color"].eq("red") * 3 + rng.normal(size=N)
Ni = np.c_[rng.normal(size=N), rng.randint(0, 4, size=N).astype(float), np.where(rng.rand(N) < 0.2, np.nan, rng.normal(size=N))]
Cnan = C.assign(city=[np.nan if v is None else v for v in C["city"]])  # NaN, not None: missing
num = Pipeline([("imp", SimpleImputer()), ("sc", StandardScaler())])
cat = Pipeline([("imp", SimpleImputer(strategy="constant", fill_value="missing")), ("oh", OneHotEncoder(handle_unknown="ignore"))])

CATEGORICAL = {
    "ct_logreg": (Pipeline([("ct", ColumnTransformer([("num", num, ["a", "b"]), ("cat", cat, ["city", "color"])])), ("m", LogisticRegression(max_iter=1000))]), C, yc),
    "ct_forest_passthrough": (Pipeline([("ct", ColumnTransformer([("oh", OneHotEncoder(drop="first", sparse_output=False), ["color"]), ("drop", "drop", ["city"])], remainder="passthrough")), ("m", RandomForestRegressor(n_estimators=5, random_state=0))]), C.fillna({"a": 0}), ycr),
    "ct_most_frequent_error": (Pipeline([("ct", ColumnTransformer([("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent")), ("oh", OneHotEncoder(drop="if_binary"))]), ["color", "city"]), ("num", SimpleImputer(strategy="median"), ["a"])])), ("m", Ridge())]), Cnan, ycr),
    "ct_ordinal_tree": (Pipeline([("ct", ColumnTransformer([("ord", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2), ["city", "color"]), ("num", SimpleImputer(), ["a", "b"])])), ("m", DecisionTreeClassifier(max_depth=5, random_state=0))]), Cnan, yc),
    "ct_ordinal_error": (Pipeline([("ct", ColumnTransformer([("ord", OrdinalEncoder(), ["color", "city"])], remainder="passthrough")), ("m", RandomForestRegressor(n_estimators=3, random_state=0))]), Cnan.fillna({"a": 0, "city": "NY"}), ycr),
    "ct_infrequent": (Pipeline([("ct", ColumnTransformer([("num", num, ["a", "b"]), ("cat", Pipeline([("imp", SimpleImputer(strategy="constant", fill_value="missing")), ("oh", OneHotEncoder(max_categories=2, handle_unknown="infrequent_if_exist"))]), ["city"]), ("col", OneHotEncoder(min_frequency=0.6, handle_unknown="ignore"), ["color"])])), ("m", LogisticRegression(max_iter=1000))]), C, yc),
    "ct_infrequent_drop": (Pipeline([("ct", ColumnTransformer([("cat", Pipeline([("imp", SimpleImputer(strategy="constant", fill_value="missing")), ("oh", OneHotEncoder(max_categories=3, drop="first"))]), ["city", "color"]), ("bin", Pipeline([("imp", SimpleImputer(strategy="constant", fill_value="missing")), ("oh", OneHotEncoder(max_categories=2, drop="if_binary", handle_unknown="infrequent_if_exist"))]), ["city"])], remainder="passthrough")), ("m", Ridge())]), Cnan.fillna({"a": 0}), ycr),
    "ct_numpy_idx": (Pipeline([("ct", ColumnTransformer([("imp", SimpleImputer(strategy="median"), [0, 2]), ("oh", OneHotEncoder(), [1])])), ("m", Ridge())]), Ni, Ni[:, 0] * 2 + Ni[:, 1]),
}

MODELS = {
    "linreg": (LinearRegression(), Xdf, y),
    "linreg_noicpt_numpy": (LinearRegression(fit_intercept=False), X, y),
    "ridge_2targets": (Ridge(alpha=0.5), Xdf, y2),
    "ridgecv": (RidgeCV(), Xdf, y),
    "lasso": (Lasso(alpha=0.05), Xdf, y),
    "elasticnet_numpy": (ElasticNet(alpha=0.1), X, y),
    "bayesridge": (BayesianRidge(), Xdf, y),
    "huber": (HuberRegressor(max_iter=500), Xdf, y),
    "logreg_binary": (LogisticRegression(max_iter=1000), Xdf, yb),
    "logreg_multi": (LogisticRegression(max_iter=1000), Xdf, ys),
    "logreg_ovr": (LogisticRegression(solver="liblinear"), Xdf, ys),
    "logreg_10": (LogisticRegression(max_iter=2000), Xdf, y10),
    "logregcv": (LogisticRegressionCV(Cs=3, cv=3, max_iter=1000), Xdf, ys),
    "linearsvc": (LinearSVC(max_iter=5000), Xdf, ys),
    "sgd_binary": (SGDClassifier(random_state=0), X, yb),
    "perceptron": (Perceptron(random_state=0), Xdf, ys),
    "pipe_std_logreg": (Pipeline([("s", StandardScaler()), ("m", LogisticRegression(max_iter=1000))]), Xdf, ys),
    "pipe_minmax_clip_ridge": (Pipeline([("s", MinMaxScaler(feature_range=(-1, 2), clip=True)), ("m", Ridge())]), Xdf, y),
    "pipe_robust_maxabs_linreg": (Pipeline([("r", RobustScaler()), ("p", "passthrough"), ("x", MaxAbsScaler()), ("m", LinearRegression())]), X, y),
    "pipe_nomean_std": (Pipeline([("s", StandardScaler(with_mean=False)), ("m", Lasso(alpha=0.01))]), Xdf, y),
    "tree_reg": (DecisionTreeRegressor(random_state=0), Gdf, yg),
    "tree_cls": (DecisionTreeClassifier(random_state=0, max_depth=6), Gdf, ygs),
    "tree_reg_numpy": (DecisionTreeRegressor(random_state=0, max_depth=8), X, y),
    "forest_reg": (RandomForestRegressor(n_estimators=7, random_state=0), Gdf, yg),
    "forest_cls10": (RandomForestClassifier(n_estimators=9, random_state=0), Xdf, y10),
    "extra_cls": (ExtraTreesClassifier(n_estimators=5, random_state=0), Gdf, ygs),
    "extra_reg": (ExtraTreesRegressor(n_estimators=5, random_state=0), X, y),
    "pipe_std_forest": (Pipeline([("s", StandardScaler()), ("m", RandomForestClassifier(n_estimators=4, random_state=1))]), Xdf, yb),
    "gb_reg": (GradientBoostingRegressor(n_estimators=30, random_state=0), Xdf, y),
    "gb_reg_huber_zero": (GradientBoostingRegressor(loss="huber", init="zero", n_estimators=20, random_state=0), X, y),
    "gb_reg_stopped": (GradientBoostingRegressor(n_estimators=500, n_iter_no_change=3, random_state=0), Gdf, yg),
    "gb_binary": (GradientBoostingClassifier(n_estimators=25, random_state=0), Xdf, yb),
    "gb_multi": (GradientBoostingClassifier(n_estimators=15, max_depth=2, random_state=0), Gdf, ygs),
    "gb_exponential": (GradientBoostingClassifier(loss="exponential", n_estimators=5, random_state=0), Xdf, yb),
    "hgb_reg": (HistGradientBoostingRegressor(max_iter=30, random_state=0), Xdf, y),
    "hgb_poisson_nan": (HistGradientBoostingRegressor(loss="poisson", max_iter=20, random_state=0), pd.DataFrame(np.where(rng.rand(N, F) < 0.15, np.nan, G), columns=cols), np.exp(G @ [0.1, 0.2, 0, 0.1, 0.3] / 3)),
    "hgb_binary": (HistGradientBoostingClassifier(max_iter=25, random_state=0), Gdf, ygs == "hi"),
    "hgb_multi": (HistGradientBoostingClassifier(max_iter=10, random_state=0), Xdf, y10),
    "hgb_cat_cls": (HistGradientBoostingClassifier(categorical_features=[0, 2], max_iter=15, random_state=0), Gdf, ygs),
    "hgb_cat_reg_nan": (HistGradientBoostingRegressor(categorical_features=[True, False, False, True, False], max_iter=20, random_state=0), pd.DataFrame(np.where(rng.rand(N, F) < 0.1, np.nan, G), columns=cols), yg),
    "ada_samme_r": (AdaBoostClassifier(n_estimators=20, random_state=0), Xdf, ys),
    "ada_samme_binary": (AdaBoostClassifier(algorithm="SAMME", n_estimators=15, random_state=0), X, yb),
    "ada_reg": (AdaBoostRegressor(n_estimators=15, random_state=0), Gdf, yg),
    "gnb": (GaussianNB(), Xdf, ys),
    "gnb_10_numpy": (GaussianNB(var_smoothing=1e-3), X, y10),
    "svc_rbf": (Pipeline([("s", StandardScaler()), ("m", SVC())]), Xdf, ys),
    "svc_linear_binary": (SVC(kernel="linear"), Xdf, yb),
    "svc_poly_10": (Pipeline([("s", StandardScaler()), ("m", SVC(kernel="poly", degree=3, coef0=1))]), X, y10),
    "nusvc_sigmoid": (Pipeline([("s", StandardScaler()), ("m", NuSVC(kernel="sigmoid", nu=0.3))]), Xdf, yb),
    "svc_rbf_proba": (Pipeline([("s", StandardScaler()), ("m", SVC(probability=True, random_state=0))]), Xdf, ys),
    "svc_sigmoid_proba_binary": (Pipeline([("s", StandardScaler()), ("m", SVC(kernel="sigmoid", probability=True, random_state=0))]), Xdf, yb),
    "nusvc_proba_10": (Pipeline([("s", StandardScaler()), ("m", NuSVC(nu=0.05, probability=True, random_state=0))]), X, y10),
    "svr_rbf": (Pipeline([("s", StandardScaler()), ("m", SVR(C=3))]), Xdf, y),
    # libsvm's linear kernel is BLAS's dot (FMA here): unscaled features
    # would make its last digits the test's subject.
    "nusvr_linear": (Pipeline([("s", StandardScaler()), ("m", NuSVR(kernel="linear"))]), X, y),
    "oneclass": (Pipeline([("s", StandardScaler()), ("m", OneClassSVM(nu=0.2))]), Xdf, None),
    "mlp_cls_relu": (Pipeline([("s", StandardScaler()), ("m", MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=300, random_state=0))]), Xdf, ys),
    "mlp_binary_tanh": (Pipeline([("s", StandardScaler()), ("m", MLPClassifier(hidden_layer_sizes=(10,), activation="tanh", max_iter=300, random_state=0))]), Xdf, yb),
    "mlp_reg_logistic": (Pipeline([("s", StandardScaler()), ("m", MLPRegressor(hidden_layer_sizes=(12,), activation="logistic", max_iter=500, random_state=0))]), X, y),
    "mlp_reg_2out": (Pipeline([("s", StandardScaler()), ("m", MLPRegressor(hidden_layer_sizes=(6,), activation="identity", max_iter=300, random_state=0))]), Xdf, y2),
    "pca_whiten_logreg": (Pipeline([("s", StandardScaler()), ("p", PCA(n_components=3, whiten=True)), ("m", LogisticRegression(max_iter=1000))]), Xdf, ys),
    "svd_ridge": (Pipeline([("p", TruncatedSVD(n_components=2, random_state=0)), ("m", Ridge())]), X, y),
    "poly3_ridge": (Pipeline([("s", StandardScaler()), ("p", PolynomialFeatures(degree=3)), ("m", Ridge())]), Xdf, y),
    "poly_interaction_nobias": (Pipeline([("p", PolynomialFeatures(degree=(2, 3), interaction_only=True, include_bias=False)), ("m", LinearRegression())]), Gdf, yg),
    "poly_min2_bias": (Pipeline([("p", PolynomialFeatures(degree=(2, 2))), ("m", LinearRegression())]), Gdf, yg),
    "select_kbest_tree": (Pipeline([("v", VarianceThreshold(0.5)), ("k", SelectKBest(f_classif, k=2)), ("m", DecisionTreeClassifier(max_depth=4, random_state=0))]), Xdf, ys),
    "knn": (KNeighborsClassifier(), Xdf, ys),
    "knn_dist_grid": (KNeighborsClassifier(n_neighbors=9, weights="distance"), Gdf, ygs),
    "knn_grid_10": (KNeighborsClassifier(n_neighbors=6, leaf_size=5), G, y10),
    "knn_reg_grid": (KNeighborsRegressor(n_neighbors=4), Gdf, yg),
    "knn_reg_dist": (KNeighborsRegressor(n_neighbors=9, weights="distance", leaf_size=3), X, y),
    "knn_brute": (KNeighborsClassifier(algorithm="brute"), Xdf, ys),
    "calib_linearsvc": (CalibratedClassifierCV(LinearSVC(max_iter=5000), cv=3), Xdf, ys),
    "calib_forest_binary": (CalibratedClassifierCV(RandomForestClassifier(n_estimators=5, random_state=0), cv=3, ensemble=False), Xdf, yb),
    "calib_pipe_logreg": (CalibratedClassifierCV(Pipeline([("s", StandardScaler()), ("m", LogisticRegression())]), cv=2), X, yb),
    "calib_isotonic": (CalibratedClassifierCV(GaussianNB(), method="isotonic", cv=3), Xdf, ys),
    "lda_multi": (LinearDiscriminantAnalysis(), Xdf, ys),
    "lda_binary_lsqr": (LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"), X, yb),
    "knn_manhattan_grid": (KNeighborsClassifier(n_neighbors=5, p=1), Gdf, ygs),
    "knn_cheb_ball_grid": (KNeighborsRegressor(n_neighbors=4, metric="chebyshev", algorithm="ball_tree", weights="distance", leaf_size=5), Gdf, yg),
    "knn_manhattan_ball": (KNeighborsClassifier(n_neighbors=6, metric="manhattan", algorithm="ball_tree", weights="distance"), Xdf, ys),
    "voting_soft": (VotingClassifier([("lr", Pipeline([("s", StandardScaler()), ("m", LogisticRegression(max_iter=1000))])), ("rf", RandomForestClassifier(n_estimators=5, random_state=0)), ("nb", GaussianNB())], voting="soft", weights=[2, 1, 1]), Xdf, ys),
    "voting_soft_even": (VotingClassifier([("tree", DecisionTreeClassifier(max_depth=4, random_state=0)), ("knn", KNeighborsClassifier()), ("drop", "drop")], voting="soft"), Gdf, ygs),
    "voting_hard": (VotingClassifier([("tree", DecisionTreeClassifier(max_depth=3, random_state=0)), ("lr", LogisticRegression(max_iter=1000)), ("svc", SVC())]), Gdf, ygs),
    "voting_hard_two": (VotingClassifier([("tree", DecisionTreeClassifier(max_depth=2, random_state=0)), ("nb", GaussianNB())]), Gdf, ygs),
    "voting_hard_weighted": (VotingClassifier([("tree", DecisionTreeClassifier(max_depth=3, random_state=0)), ("lr", LogisticRegression(max_iter=1000)), ("nb", GaussianNB())], weights=[1, 2, 1.5]), X, y10),
    "stack_cls": (StackingClassifier([("rf", RandomForestClassifier(n_estimators=5, random_state=0)), ("nb", GaussianNB())], final_estimator=LogisticRegression(max_iter=1000)), Xdf, ys),
    "stack_binary_pass": (StackingClassifier([("lr", Pipeline([("s", StandardScaler()), ("m", LogisticRegression())])), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)), ("drop", "drop")], passthrough=True), Xdf, yb),
    "stack_predict_grid": (StackingClassifier([("tree", DecisionTreeClassifier(max_depth=3, random_state=0)), ("knn", KNeighborsClassifier())], final_estimator=DecisionTreeClassifier(max_depth=3, random_state=0), stack_method="predict"), Gdf, ygs),
    "stack_reg": (StackingRegressor([("lin", LinearRegression()), ("knn", KNeighborsRegressor())], final_estimator=Ridge()), Xdf, y),
    "stack_svc": (StackingClassifier([("svc", SVC()), ("nb", GaussianNB())]), Xdf, ys),
    "voting_reg": (VotingRegressor([("lin", LinearRegression()), ("tree", DecisionTreeRegressor(max_depth=4, random_state=0)), ("knn", KNeighborsRegressor())], weights=[1, 2, 3]), Xdf, y),
    "search_grid_logreg": (GridSearchCV(Pipeline([("s", StandardScaler()), ("m", LogisticRegression(max_iter=1000))]), {"m__C": [0.1, 1.0]}, cv=3), Xdf, ys),
    "search_random_forest": (RandomizedSearchCV(RandomForestRegressor(n_estimators=5, random_state=0), {"max_depth": [2, 4]}, n_iter=2, cv=3, random_state=0), Gdf, yg),
    "knn_ball_grid": (KNeighborsClassifier(n_neighbors=5, algorithm="ball_tree", leaf_size=4), Gdf, ygs),
    "knn_ball_reg": (KNeighborsRegressor(n_neighbors=3, algorithm="ball_tree", weights="distance"), Xdf, y),
    "nb_multinomial": (MultinomialNB(), Gdf, ygs),
    "nb_complement": (ComplementNB(), G, ygs),
    "nb_bernoulli": (BernoulliNB(binarize=2.0), Gdf, ygs),
    "nb_categorical": (CategoricalNB(), Gdf, ygs),
    "nb_categorical_min": (CategoricalNB(min_categories=7, alpha=0.5), G, y10),
    "nb_bernoulli_none": (BernoulliNB(binarize=None, alpha=0.5), Gdf > 2, yb),
    "ridgecls": (RidgeClassifier(), Xdf, ys),
    "ridgeclscv_binary": (RidgeClassifierCV(), X, yb),
    "sgd_reg": (Pipeline([("s", StandardScaler()), ("m", SGDRegressor(random_state=0))]), Xdf, y),
    "sgd_log": (Pipeline([("s", StandardScaler()), ("m", SGDClassifier(loss="log_loss", random_state=0))]), Xdf, ys),
    "sgd_huber_binary": (Pipeline([("s", StandardScaler()), ("m", SGDClassifier(loss="modified_huber", random_state=0))]), Xdf, yb),
    "sgd_huber_multi": (Pipeline([("s", StandardScaler()), ("m", SGDClassifier(loss="modified_huber", random_state=0))]), Xdf, y10),
    "linearsvr": (Pipeline([("s", StandardScaler()), ("m", LinearSVR(max_iter=10000, random_state=0))]), Xdf, y),
    "pa_cls": (PassiveAggressiveClassifier(random_state=0), Xdf, ys),
    "pa_reg": (Pipeline([("s", StandardScaler()), ("m", PassiveAggressiveRegressor(random_state=0))]), Xdf, y),
    "lars": (Lars(), Xdf, y),
    "lassolars_ic": (LassoLarsIC(), X, y),
    "omp": (OrthogonalMatchingPursuit(n_nonzero_coefs=2), Xdf, y),
    "ard": (ARDRegression(), Xdf, y),
    "theilsen": (TheilSenRegressor(random_state=0, max_subpopulation=200), Xdf, y),
    "quantile": (QuantileRegressor(quantile=0.7, alpha=0.01, solver="highs"), Xdf, y),
    "multitask_lasso": (MultiTaskLasso(alpha=0.1), Xdf, y2),
    "glm_poisson": (Pipeline([("s", StandardScaler()), ("m", PoissonRegressor())]), Xdf, np.exp(y / 5)),
    "glm_gamma": (Pipeline([("s", StandardScaler()), ("m", GammaRegressor())]), Xdf, np.exp(y / 5)),
    "glm_tweedie_identity": (TweedieRegressor(power=0), Xdf, y),
    "glm_tweedie_log": (Pipeline([("s", StandardScaler()), ("m", TweedieRegressor(power=1.5, link="log"))]), X, np.exp(y / 5)),
    "kmeans": (Pipeline([("s", StandardScaler()), ("m", KMeans(n_clusters=4, n_init=3, random_state=0))]), Xdf, None),
    "kmeans_minibatch": (MiniBatchKMeans(n_clusters=3, n_init=3, random_state=0), X, None),
    "nearest_centroid": (NearestCentroid(), Xdf, ys),
    "nearest_centroid_manhattan": (NearestCentroid(metric="manhattan"), X, y10),
    "qda": (QuadraticDiscriminantAnalysis(), Xdf, ys),
    "qda_reg_binary": (QuadraticDiscriminantAnalysis(reg_param=0.1), X, yb),
    "iforest": (IsolationForest(n_estimators=20, random_state=0), Xdf, None),
    "normalizer_l1_logreg": (Pipeline([("n", Normalizer(norm="l1")), ("m", LogisticRegression(max_iter=1000))]), Xdf, ys),
    "normalizer_l2_knn": (Pipeline([("n", Normalizer()), ("m", KNeighborsClassifier())]), X, ys),
    "normalizer_max_ridge": (Pipeline([("n", Normalizer(norm="max")), ("m", Ridge())]), Xdf, y),
    "binarizer_bnb": (Pipeline([("b", Binarizer(threshold=0.5)), ("m", BernoulliNB(binarize=None))]), Xdf, yb),
    "quantile_uniform_ridge": (Pipeline([("q", QuantileTransformer(n_quantiles=50)), ("m", Ridge())]), Xdf, y),
    "quantile_normal_logreg": (Pipeline([("q", QuantileTransformer(n_quantiles=30, output_distribution="normal")), ("m", LogisticRegression(max_iter=1000))]), X, ys),
    "quantile_grid_linreg": (Pipeline([("q", QuantileTransformer(n_quantiles=20)), ("m", LinearRegression())]), Gdf, yg),
    "power_yj_ridge": (Pipeline([("p", PowerTransformer()), ("m", Ridge())]), Xdf, y),
    "power_boxcox_linreg": (Pipeline([("p", PowerTransformer(method="box-cox", standardize=False)), ("m", LinearRegression())]), pd.DataFrame(np.abs(X) + 0.1, columns=cols), y),
    "kbins_ordinal_tree": (Pipeline([("k", KBinsDiscretizer(n_bins=4, encode="ordinal")), ("m", DecisionTreeClassifier(max_depth=4, random_state=0))]), Xdf, ys),
    "kbins_onehot_dense_logreg": (Pipeline([("k", KBinsDiscretizer(n_bins=3, encode="onehot-dense", strategy="uniform")), ("m", LogisticRegression(max_iter=1000))]), X, yb),
    "rfe_linreg": (RFE(LinearRegression(), n_features_to_select=2), Xdf, y),
    "rfecv_logreg_pipe": (Pipeline([("s", StandardScaler()), ("m", RFECV(LogisticRegression(max_iter=1000), cv=3))]), Xdf, ys),
    "rfe_transform_tree": (Pipeline([("r", RFE(DecisionTreeRegressor(random_state=0), n_features_to_select=3)), ("m", Ridge())]), Gdf, yg),
    "select_percentile_logreg": (Pipeline([("p", SelectPercentile(f_classif, percentile=40)), ("m", LogisticRegression(max_iter=1000))]), Xdf, ys),
    "bagging_tree": (BaggingClassifier(n_estimators=5, random_state=0), Xdf, ys),
    "bagging_features_knn": (BaggingClassifier(KNeighborsClassifier(), n_estimators=4, max_features=0.6, max_samples=0.5, random_state=0), X, y10),
    "bagging_sparse_classes": (BaggingClassifier(KNeighborsClassifier(n_neighbors=3), n_estimators=6, max_samples=12, random_state=0), Xdf, y10),
    "bagging_svc_votes": (BaggingClassifier(Pipeline([("s", StandardScaler()), ("m", SVC())]), n_estimators=3, random_state=0), Xdf, ys),
    "bagging_reg": (BaggingRegressor(n_estimators=5, max_features=3, bootstrap_features=True, random_state=0), Gdf, yg),
    "bagging_reg_linear": (BaggingRegressor(LinearRegression(), n_estimators=4, random_state=0), X, y),
    "ttr_log1p_linreg": (TransformedTargetRegressor(LinearRegression(), func=np.log1p, inverse_func=np.expm1), Xdf, np.exp(y / 5)),
    "ttr_scaler_pipe": (TransformedTargetRegressor(Pipeline([("s", StandardScaler()), ("m", Ridge())]), transformer=StandardScaler()), Xdf, y),
    "ttr_minmax_2targets": (TransformedTargetRegressor(LinearRegression(), transformer=MinMaxScaler()), X, y2),
    "ttr_sqrt_grid": (TransformedTargetRegressor(Ridge(), func=np.square, inverse_func=np.sqrt, check_inverse=False), Gdf, np.abs(yg)),
    "ttr_robust_tree": (TransformedTargetRegressor(DecisionTreeRegressor(max_depth=5, random_state=0), transformer=RobustScaler()), Gdf, yg),
    "sfm_lasso_ridge": (Pipeline([("f", SelectFromModel(Lasso(alpha=0.5))), ("m", Ridge())]), Xdf, y),
    "sfm_forest_logreg": (Pipeline([("f", SelectFromModel(RandomForestClassifier(n_estimators=5, random_state=0))), ("m", LogisticRegression(max_iter=1000))]), Xdf, ys),
    "sfm_logreg_median": (Pipeline([("f", SelectFromModel(LogisticRegression(max_iter=1000), threshold="median")), ("m", DecisionTreeClassifier(max_depth=3, random_state=0))]), Xdf, ys),
    "sfm_tree_maxfeat": (Pipeline([("f", SelectFromModel(DecisionTreeRegressor(max_depth=4, random_state=0), threshold="0.5*mean", max_features=2)), ("m", LinearRegression())]), Gdf, yg),
    "ovr_logreg": (OneVsRestClassifier(LogisticRegression(max_iter=1000)), Xdf, ys),
    "ovr_tree_grid": (OneVsRestClassifier(DecisionTreeClassifier(max_depth=3, random_state=0)), Gdf, ygs),
    "ovr_svc_binary": (OneVsRestClassifier(LinearSVC(max_iter=5000)), Xdf, yb),
    "ovr_pipe_knn": (OneVsRestClassifier(Pipeline([("s", StandardScaler()), ("m", KNeighborsClassifier())])), X, y10),
    "multiout_reg": (MultiOutputRegressor(Ridge()), Xdf, y2),
    "multiout_cls": (MultiOutputClassifier(DecisionTreeClassifier(max_depth=3, random_state=0)), Xdf, np.c_[ys, np.where(yb == 1, "hi", "lo")]),
    "calib_svc_multi": (CalibratedClassifierCV(Pipeline([("s", StandardScaler()), ("m", SVC())]), cv=3), Xdf, ys),
    "calib_nusvc_ovo_binary": (CalibratedClassifierCV(Pipeline([("s", StandardScaler()), ("m", NuSVC(decision_function_shape="ovo"))]), method="isotonic", cv=2), X, yb),
    "ovr_svc_poly": (OneVsRestClassifier(Pipeline([("s", StandardScaler()), ("m", SVC(kernel="poly", degree=2))])), Xdf, y10),
    "stack_svc_ovo": (StackingClassifier([("svc", Pipeline([("s", StandardScaler()), ("m", SVC(decision_function_shape="ovo"))])), ("nb", GaussianNB())]), Xdf, ys),
    "func_log1p_ridge": (Pipeline([("f", FunctionTransformer(np.log1p)), ("m", Ridge())]), pd.DataFrame(np.abs(X) + 0.1, columns=cols), y),
    "func_ct_sqrt": (Pipeline([("ct", ColumnTransformer([("f", FunctionTransformer(np.sqrt), ["a", "b"]), ("p", "passthrough", ["c", "d", "e"])])), ("m", LinearRegression())]), pd.DataFrame(np.abs(X) + 0.1, columns=cols), y),
    "func_validate_tree": (Pipeline([("f", FunctionTransformer(validate=True)), ("m", DecisionTreeRegressor(max_depth=5, random_state=0))]), Gdf, yg),
    "knn_brute_dist_20": (Pipeline([("p", PolynomialFeatures(2, include_bias=False)), ("s", StandardScaler()), ("m", KNeighborsClassifier(n_neighbors=7, weights="distance"))]), Xdf, y10),
    "knn_brute_reg_manhattan": (KNeighborsRegressor(n_neighbors=4, algorithm="brute", p=1), Xdf, y),
    "impute_indicator_ridge": (Pipeline([("i", SimpleImputer(strategy="median", add_indicator=True)), ("m", Ridge())]), pd.DataFrame(np.where(rng.rand(N, F) < np.array([0.2, 0, 0.1, 0, 0]), np.nan, X), columns=cols), y),
    "impute_indicator_all_tree": (Pipeline([("i", SimpleImputer(add_indicator=True, keep_empty_features=True)), ("m", DecisionTreeRegressor(max_depth=4, random_state=0))]), pd.DataFrame(np.where(rng.rand(N, F) < 0.1, np.nan, G), columns=cols), yg),
    "missing_indicator_ct": (Pipeline([("ct", ColumnTransformer([("mi", MissingIndicator(), ["a", "c"]), ("i", SimpleImputer(), ["a", "b", "c", "d", "e"])])), ("m", LinearRegression())]), pd.DataFrame(np.where(rng.rand(N, F) < np.array([0.2, 0, 0.1, 0, 0]), np.nan, X), columns=cols), y),
    "missing_indicator_new": (Pipeline([("ct", ColumnTransformer([("mi", MissingIndicator(), ["a", "b", "c"]), ("i", SimpleImputer(), cols)])), ("m", Ridge())]), pd.DataFrame(np.where(rng.rand(N, F) < np.array([0.2, 0, 0, 0, 0]), np.nan, X), columns=cols), y),
    "spline_ridge": (Pipeline([("s", SplineTransformer(n_knots=5, degree=3)), ("m", Ridge())]), Xdf, y),
    "spline_linear_nobias": (Pipeline([("s", SplineTransformer(n_knots=4, degree=2, extrapolation="linear", include_bias=False)), ("m", LinearRegression())]), X, y),
    "spline_linear_deg1": (Pipeline([("s", SplineTransformer(degree=1, extrapolation="linear")), ("m", Ridge())]), Xdf, y),
    "spline_periodic": (Pipeline([("s", SplineTransformer(n_knots=6, extrapolation="periodic")), ("m", Ridge())]), Xdf, y),
    "spline_continue_quantile": (Pipeline([("s", SplineTransformer(knots="quantile", n_knots=4, extrapolation="continue")), ("m", Ridge())]), Gdf, yg),
    "spline_error": (Pipeline([("s", SplineTransformer(extrapolation="error")), ("m", Ridge())]), Xdf, y),
    "calib_ovr_logreg": (CalibratedClassifierCV(OneVsRestClassifier(Pipeline([("s", StandardScaler()), ("m", LogisticRegression(max_iter=1000))])), cv=3), Xdf, ys),
    "calib_ovr_tree": (CalibratedClassifierCV(OneVsRestClassifier(DecisionTreeClassifier(max_depth=3, random_state=0)), method="isotonic", cv=2), Gdf, ygs),
    "knn_impute_ridge": (Pipeline([("i", KNNImputer()), ("m", Ridge())]), pd.DataFrame(np.where(rng.rand(N, F) < 0.15, np.nan, X), columns=cols), y),
    "knn_impute_dist_indicator": (Pipeline([("s", StandardScaler()), ("i", KNNImputer(n_neighbors=3, weights="distance", add_indicator=True)), ("m", LinearRegression())]), pd.DataFrame(np.where(rng.rand(N, F) < np.array([0.2, 0.1, 0, 0.3, 0]), np.nan, X), columns=cols), y),
    "lof_novelty": (LocalOutlierFactor(novelty=True, n_neighbors=10), Xdf, None),
    "lof_brute_manhattan": (Pipeline([("s", StandardScaler()), ("m", LocalOutlierFactor(novelty=True, algorithm="brute", metric="manhattan", contamination=0.1))]), X, None),
    "kridge_rbf": (Pipeline([("s", StandardScaler()), ("m", KernelRidge(kernel="rbf", alpha=0.5))]), Xdf, y),
    "kridge_poly_2targets": (Pipeline([("s", StandardScaler()), ("m", KernelRidge(kernel="poly", degree=2, coef0=1, gamma=0.3))]), X, y2),
    "kridge_linear": (Pipeline([("s", StandardScaler()), ("m", KernelRidge(alpha=2.0))]), Xdf, y),  # unscaled, BLAS alone varies by 1e-11 with the batch
    "nystroem_logreg": (Pipeline([("s", StandardScaler()), ("k", Nystroem(n_components=20, random_state=0)), ("m", LogisticRegression(max_iter=1000))]), Xdf, ys),
    "nystroem_laplacian_ridge": (Pipeline([("s", StandardScaler()), ("k", Nystroem(kernel="laplacian", gamma=0.2, n_components=15, random_state=0)), ("m", Ridge())]), Xdf, y),
    "rbf_sampler_sgd": (Pipeline([("s", StandardScaler()), ("k", RBFSampler(gamma=0.5, n_components=30, random_state=0)), ("m", SGDClassifier(random_state=0))]), Xdf, ys),
    "gpr_rbf_white": (Pipeline([("s", StandardScaler()), ("m", GaussianProcessRegressor(ConstantKernel(1.0) * RBF([1.0] * 5) + WhiteKernel(0.5), normalize_y=True, random_state=0))]), Xdf, y),
    "gpr_matern": (Pipeline([("s", StandardScaler()), ("m", GaussianProcessRegressor(Matern(length_scale=2.0, nu=1.5) + WhiteKernel(1.0), random_state=0))]), X, y),
    "gpr_mixed_2targets": (Pipeline([("s", StandardScaler()), ("m", GaussianProcessRegressor(RationalQuadratic() + DotProduct() ** 2 + WhiteKernel(1.0), normalize_y=True, optimizer=None, alpha=1.0))]), Xdf, y2),
    "gpr_periodic_1d": (Pipeline([("ct", ColumnTransformer([("a", "passthrough", ["a"])])), ("m", GaussianProcessRegressor(ExpSineSquared(periodicity=3.0) * ConstantKernel(0.5) + WhiteKernel(0.5), optimizer=None))]), Xdf, y),
    "pls_reg": (PLSRegression(n_components=2), Xdf, y),
    "pls_reg_2targets": (PLSRegression(n_components=3, scale=False), X, y2),
    "pls_canonical": (PLSCanonical(n_components=2), Xdf, y2),
    "cca": (CCA(n_components=1), Xdf, y2),
    "iter_impute_ridge": (Pipeline([("i", IterativeImputer(random_state=0)), ("m", Ridge())]), pd.DataFrame(np.where(rng.rand(N, F) < 0.15, np.nan, X), columns=cols), y),
    "iter_impute_tree_indicator": (Pipeline([("s", StandardScaler()), ("i", IterativeImputer(estimator=DecisionTreeRegressor(max_depth=3, random_state=0), max_iter=3, initial_strategy="median", imputation_order="descending", min_value=-2.0, max_value=2.5, add_indicator=True, n_nearest_features=3, random_state=0)), ("m", LinearRegression())]), pd.DataFrame(np.where(rng.rand(N, F) < np.array([0.2, 0.1, 0, 0.3, 0]), np.nan, X), columns=cols), y),
    "gpc_rbf": (Pipeline([("s", StandardScaler()), ("m", GaussianProcessClassifier(ConstantKernel(1.0) * RBF(1.0), random_state=0))]), Xdf, yb),
    "gpc_matern_white": (Pipeline([("s", StandardScaler()), ("m", GaussianProcessClassifier(Matern(nu=2.5) + WhiteKernel(0.1), random_state=0))]), X, np.where(yb == 1, "yes", "no")),
    "gpc_multi_ovr": (Pipeline([("s", StandardScaler()), ("m", GaussianProcessClassifier(1.0 * RBF(1.0), random_state=0))]), Xdf, ys),
    "iforest_sub": (IsolationForest(n_estimators=10, max_features=0.6, max_samples=50, contamination=0.1, random_state=0), X, None),
}
MODELS.update(CATEGORICAL)

# Text: documents of words drawn from a small vocabulary (cased, with
# accents, Greek capitals, digits, underscores, punctuation and runs of
# spaces), labels from the words they hold.
WORDS = ["the", "cat", "Dog", "and", "a", "runs", "FAST", "slow", "café", "naïve", "ΟΔΟΣ", "İstanbul",
         "x_y", "42", "b2b", "it's", "über", "Straße", "of", "I", "n", "ΣΑΣ", "go!", "e\u0301t\u00e9"]
trng = np.random.RandomState(3)


def doc(n):
    out = ""
    for _ in range(n):
        out += WORDS[trng.randint(len(WORDS))] + [" ", "  ", ", ", "\t", " \n "][trng.randint(5)]
    return out.strip()


DOCS = [doc(trng.randint(1, 12)) for _ in range(240)]
ydoc = np.array(["pets" if ("cat" in d or "Dog" in d) else "speed" if ("FAST" in d or "slow" in d) else "other" for d in DOCS], dtype=object)
ydocn = np.array([len(d) / 10.0 + d.count("a") for d in DOCS])
TDF = pd.DataFrame({"text": DOCS, "x": trng.normal(size=len(DOCS))})
MODELS.update({
    "text_tfidf_logreg": (Pipeline([("v", TfidfVectorizer()), ("m", LogisticRegression(max_iter=1000))]), DOCS, ydoc),
    "text_count_mnb": (Pipeline([("v", CountVectorizer()), ("m", MultinomialNB())]), DOCS, ydoc),
    "text_count_tfidf_sgd": (Pipeline([("v", CountVectorizer(ngram_range=(1, 2), stop_words="english")), ("t", TfidfTransformer(sublinear_tf=True)), ("m", SGDClassifier(random_state=0))]), DOCS, ydoc),
    "text_tfidf_trigram_cnb": (Pipeline([("v", TfidfVectorizer(ngram_range=(1, 3), min_df=2, max_features=300, norm="l1", token_pattern=r"(?u)\b\w+\b")), ("m", ComplementNB())]), DOCS, ydoc),
    "text_char_wb_linearsvc": (Pipeline([("v", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=False)), ("m", LinearSVC(max_iter=5000))]), DOCS, ydoc),
    "text_char_ridge": (Pipeline([("v", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), use_idf=False, binary=True)), ("m", Ridge())]), DOCS, ydocn),
    "text_accents_ridgecls": (Pipeline([("v", TfidfVectorizer(strip_accents="unicode", ngram_range=(1, 2))), ("m", RidgeClassifier())]), DOCS, ydoc),
    "text_ascii_bnb": (Pipeline([("v", CountVectorizer(strip_accents="ascii", analyzer="char_wb", ngram_range=(2, 3), binary=True)), ("m", BernoulliNB())]), DOCS, ydoc),
    "text_hashing_sgd": (Pipeline([("v", HashingVectorizer(ngram_range=(1, 2))), ("m", SGDClassifier(loss="log_loss", random_state=0))]), DOCS, ydoc),
    "text_hashing16_tfidf_logreg": (Pipeline([("v", HashingVectorizer(n_features=16, norm=None, alternate_sign=False, analyzer="char_wb", ngram_range=(1, 3))), ("t", TfidfTransformer(sublinear_tf=True)), ("m", LogisticRegression(max_iter=2000))]), DOCS, ydoc),
    "text_hashing_binary_l1_mnb": (Pipeline([("v", HashingVectorizer(n_features=64, binary=True, norm="l1", alternate_sign=False)), ("m", MultinomialNB())]), DOCS, ydoc),
    "text_hashing8_ridge": (Pipeline([("v", HashingVectorizer(n_features=8, analyzer="char", ngram_range=(1, 2))), ("m", Ridge())]), DOCS, ydocn),
    "text_svd_forest": (Pipeline([("v", TfidfVectorizer(stop_words=["the", "and"], sublinear_tf=True)), ("s", TruncatedSVD(5, random_state=0)), ("m", RandomForestClassifier(n_estimators=5, random_state=0))]), DOCS, ydoc),
    "text_ct": (Pipeline([("ct", ColumnTransformer([("t", TfidfVectorizer(), "text"), ("n", StandardScaler(), ["x"])])), ("m", LogisticRegression(max_iter=1000))]), TDF, ydoc),
    "text_ct_dense_scaler": (Pipeline([("ct", ColumnTransformer([("t", CountVectorizer(max_features=3), "text"), ("n", "passthrough", ["x"])])), ("s", StandardScaler()), ("m", Ridge())]), TDF, ydocn),
})
fitted = {}


def num(v):
    return float(v) if v in ("nan", "inf", "-inf") else v


def jsonable(v):
    if isinstance(v, np.ndarray):
        return [jsonable(x) for x in v.tolist()] if v.ndim else jsonable(v.item())
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return repr(v)
    return v


for line in sys.stdin:
    req = json.loads(line)
    if "fit" in req:
        out = {}
        for name, (est, Xf, yf) in MODELS.items():
            est.fit(Xf, yf)
            fitted[name] = est
            out[name] = []
            for proto in (2, 4, 5):
                path = os.path.join(req["fit"], "%s_p%d.pkl" % (name, proto))
                with open(path, "wb") as f:
                    pickle.dump(est, f, protocol=proto)
                out[name].append(path)
            path = os.path.join(req["fit"], "%s_cloudpickle.pkl" % name)  # as MLflow saves it
            with open(path, "wb") as f:
                cloudpickle.dump(est, f)
            out[name].append(path)
        print(json.dumps(out), flush=True)
        continue
    if "docs" in req:  # a one-dimensional input, as MLflow hands `inputs` to the model
        try:
            res = getattr(fitted[req["model"]], req["fn"])(np.array(req["docs"]))
            print(json.dumps({"ok": jsonable(res)}), flush=True)
        except Exception as e:  # noqa: BLE001 - the answer is the exception
            print(json.dumps({"err": "%s: %s" % (type(e).__name__, e)}), flush=True)
        continue
    rows = [[num(v) for v in r] for r in req["rows"]]
    if req.get("raw"):  # cells as they are: pandas types the columns
        data = pd.DataFrame(rows, columns=req["columns"]) if req["columns"] is not None else np.array(rows)
    elif req["columns"] is not None:
        data = pd.DataFrame(rows, columns=req["columns"], dtype=float)
    else:
        data = np.array(rows, dtype=float).reshape(len(rows), -1) if rows else np.empty((0, F))
    try:
        res = getattr(fitted[req["model"]], req["fn"])(data)
        print(json.dumps({"ok": jsonable(res)}), flush=True)
    except Exception as e:  # noqa: BLE001 - the answer is the exception
        print(json.dumps({"err": "%s: %s" % (type(e).__name__, e)}), flush=True)
