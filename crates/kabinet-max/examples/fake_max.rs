//! The fake MAX Bot API as a program, for the browser test: serves on the
//! address given (`127.0.0.1:0` picks a port), prints its URL and runs
//! until killed. `fake_max ADDRESS TOKEN BOT_NAME`.

use kabinet_max::fake::FakeMax;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let token = args.next().unwrap_or_else(|| "fake-token".into());
    let bot = args.next().unwrap_or_else(|| "kabinet_bot".into());
    let fake = FakeMax::start_on(&address, &token, &bot).await?;
    println!("{}", fake.url());
    std::future::pending::<()>().await;
    Ok(())
}
