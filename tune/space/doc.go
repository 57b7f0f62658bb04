// Package space reads Hyperopt search spaces and samples them with
// Hyperopt's semantics (hyperopt/hp.py, hyperopt/pyll/stochastic.py):
// uniform, loguniform, quniform, qloguniform, normal, qnormal,
// lognormal, qlognormal, randint, uniformint, choice, pchoice,
// constants, and choices between branches whose keys become parameters.
//
// A space file is YAML: each key an entry-point parameter, each value an
// expression written as in hyperopt.hp without the label
// ("loguniform(-7, 0)"), a constant, or {choice: [branch, …]} /
// {pchoice: [{p: 0.3, value: branch}, …]} where a branch is a mapping of
// more dimensions or a constant. Where Hyperopt is lax the parser is
// strict: bounds out of order (also a falsy one Hyperopt skips),
// pchoice probabilities that do not sum to 1, and non-positive scales or
// steps are errors naming the dimension.
package space
