//! Loads each file given and prints the result (a development aid).
fn main() {
    for a in std::env::args().skip(1) {
        match config::Config::load_file(&a) {
            Ok(l) => {
                println!("OK {a} ({} warnings)", l.warnings.len());
                for w in l.warnings {
                    println!("   W {w}");
                }
            }
            Err(e) => println!("ERR {e}"),
        }
    }
}
