//! Exposure, measured (spec §10): what a restore of each service to its
//! latest backup would break right now, drilled on a schedule
//! (`LOCKSTEP_EXPOSURE_INTERVAL`) and kept as a time series, so that an
//! architect reads the price of each tolerated relation off a chart.

pub mod api;
#[cfg(feature = "ssr")]
pub mod db;
pub mod model;
