// Package wire holds the JSON shapes of MLflow's REST API (proto field
// names, int64 as numbers, enums by name, NaN and ±Infinity as strings,
// empty fields omitted) and their conversions to and from store types. The
// server writes them and store/rest reads them, so both sides agree by
// construction. Lenient scalar types (Int64, Float, ID, Bool) accept what
// real clients send: numbers as strings, experiment ids as numbers.
package wire
