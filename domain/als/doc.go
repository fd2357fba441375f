// Package als is Marquee's implicit-feedback collaborative filtering: the
// alternating least squares of Hu, Koren and Volinsky (2008), "Collaborative
// Filtering for Implicit Feedback Datasets".
//
// The exact row solve (a Cholesky factorisation of the row's normal
// equations) serves two places, and that is the point of the package: the
// real-time fold-in of one user's history against published item factors
// (Folder), and the last user half-step of offline training (Train, or
// sharded training built from Gram, SolveRows and LossRows). Because
// training ends with an exact user half-step against the final item
// factors, a trained user vector and the fold-in of the same history are
// the same computation, so a user's vector does not jump when a new model
// is published or when their actor restarts.
//
// The other half-steps use, by default, the conjugate-gradient solver of
// Takács, Pilászy and Tikk (2011) (Params.Solver, cg.go): a few CG steps
// per row, warm-started from the previous iteration, cost O(K² + n·K) each
// instead of the exact solve's O(n·K² + K³) and, on MovieLens-100K, rank
// as well (the ML-100K test in domain/eval reports both solvers).
//
// Ranking many users at once — batch recommendations, offline evaluation —
// goes through TopKBatch, which scores users × items blockwise.
//
// Model. For a user × item matrix R of summed implicit weights r_ui (negative
// for dislikes), the preference is p_ui = 1 if r_ui > 0 else 0 and the
// confidence c_ui = 1 + α·|r_ui|; a dislike is thus a confident "not
// preferred", stronger than never having seen the item. With item factors Y
// the user vector is the exact minimiser
//
//	x_u = (YᵀY + Σ_{i∈I_u} (c_ui−1)·y_i·y_iᵀ + λI)⁻¹ · Σ_{i∈I_u} c_ui·p_ui·y_i
//
// and items are solved symmetrically against the user factors X.
//
// Storage is float32 (factors and interaction weights, with int32 indices)
// because 10M+ interactions and 100K+ items must fit comfortably in memory
// and pgvector stores float4; every solve accumulates and factorises in
// float64 so that the float32 rounding happens once, at the end.
package als
