// Package sklearn is the built-in flavor for scikit-learn models pickled
// with pickle, cloudpickle or joblib. It reads the pickle's opcodes
// without executing them (see pickle.go), names the estimator (and a
// Pipeline's steps) and the scikit-learn version, and refuses pickles that
// are not sklearn estimators or that would call anything outside a safe
// list.
package sklearn
