//! The integration tests: one binary, one moto for all of them (it exits
//! with the binary), each test with its own uniquely named resources.

mod support;

mod attack;
mod auth;
mod browser;
mod catalog;
mod cfn;
mod contract;
mod emulator;
mod faults;
mod flow;
mod fuzz;
mod gate;
mod inbox;
mod infra;
mod ops;
mod pages;
mod permissions;
mod rehearsal;
mod scale;
mod schema;
