//! `ort providers`.

use clap::Args;
use ort_runtime::discovery::{discover, search_path, Outcome};

#[derive(Args)]
pub struct ProvidersArgs {
    /// Extra directory to search first.
    #[arg(long)]
    pub provider_dir: Vec<std::path::PathBuf>,
}

pub fn main(a: ProvidersArgs) -> Result<i32, String> {
    let found = discover(&a.provider_dir);
    if found.is_empty() {
        let dirs: Vec<String> = search_path(&a.provider_dir)
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        return Err(format!(
            "no provider libraries found (searched {})",
            dirs.join(", ")
        ));
    }
    for f in found {
        let path = f.path.display();
        match f.outcome {
            Outcome::Ready(l) => println!(
                "{}\tpriority {}\tavailable\t{path}",
                l.name(),
                l.info.default_priority
            ),
            Outcome::Unavailable(l, why) => println!(
                "{}\tpriority {}\tunavailable: {why}\t{path}",
                l.name(),
                l.info.default_priority
            ),
            Outcome::Refused(why) => println!("?\t-\trefused: {why}\t{path}"),
            Outcome::Shadowed(why) => println!("?\t-\tignored: {why}\t{path}"),
        }
    }
    Ok(0)
}
