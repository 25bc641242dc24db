//! End-to-end suite support.
