//! The caremap PWA.
