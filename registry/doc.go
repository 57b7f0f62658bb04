// Package registry is mlrun's model registry: registered models, their
// numbered versions with lineage to the run that produced them, stages
// (None, Staging, Production, Archived), aliases and tags, the registry
// Store interface, MLflow's validation rules for names, stages and
// aliases, and the resolution of models:/ and runs:/ URIs to artifact
// locations.
//
// store/sqlite implements Store in the same database as tracking (MLflow's
// registry tables); store/rest implements it over MLflow's REST API.
// registry/registrytest is the contract suite both pass. Errors use the
// store package's kinds (store.ErrNotFound, …), so the server maps them
// to MLflow's codes in one place.
package registry
