//! Label-set keys shared by aggregations and vector matching: grouping keys
//! (`by`/`without`) and match signatures (`on`/`ignoring`), computed once per
//! series rather than once per step.
