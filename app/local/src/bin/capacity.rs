//! Prints docs/capacity.md's simulation: a flash sale (0 to 2,000 orders a
//! second in 10 s, held 10 minutes) and 10,000 orders at once, for the
//! template's defaults, the seed's setting and a flash-sale setting.
//! `cargo run -p local-stack --bin capacity`

use local_stack::capacity::{Behaviour, Setting, Spike, simulate, table};

fn main() {
    let sale = Spike::Ramp {
        peak: 2_000.0,
        ramp: 10.0,
        hold: 600.0,
    };
    let at_once = Spike::AtOnce { orders: 10_000.0 };
    for setting in [Setting::DEFAULTS, Setting::FLASH_SALE, Setting::SEED] {
        println!("## {}\n", setting.name);
        println!("### 0 → 2,000 orders a second in 10 s, held 10 minutes\n");
        println!(
            "{}",
            table(&simulate(setting, Behaviour::MEASURED, sale, 660.0, 60.0))
        );
        println!("### 10,000 orders at once\n");
        println!(
            "{}",
            table(&simulate(setting, Behaviour::MEASURED, at_once, 8.0, 1.0))
        );
    }
}
