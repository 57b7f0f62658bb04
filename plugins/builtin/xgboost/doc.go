// Package xgboost is the built-in flavor for XGBoost models: JSON and
// UBJSON documents (read fully) and the legacy binary format (its header).
// It reads the library version, objective, number of features, classes
// and trees, without loading the model.
package xgboost
