//! `bus-sender ADDRESS FILE [bind]`: PUSHes every frame in FILE (each a u32 little-endian length,
//! then the bytes) to ADDRESS (connecting, or binding with `bind`, to feed a component that
//! connects, such as the collector) as fast as the receiver takes them, then waits for delivery.
//! A Python sender tops out near 350 000 frames/s on this machine, below what the native
//! components take; this one is not the bottleneck.
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (address, file, bind) = match args.as_slice() {
        [_, a, f] => (a, f, false),
        [_, a, f, b] if b == "bind" => (a, f, true),
        _ => {
            eprintln!("usage: bus-sender ADDRESS FILE [bind]");
            std::process::exit(2);
        }
    };
    let data = std::fs::read(file).expect("read the frames file");
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        let n = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        frames.push(&data[pos + 4..pos + 4 + n]);
        pos += 4 + n;
    }
    let ctx = zmq::Context::new();
    let sock = ctx.socket(zmq::PUSH).unwrap();
    sock.set_sndhwm(100_000).unwrap();
    sock.set_linger(-1).unwrap();
    if bind {
        sock.bind(address).unwrap();
        // A bound PUSH only sends once its peer has connected.
        std::thread::sleep(std::time::Duration::from_millis(1000));
    } else {
        sock.connect(address).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    println!("{started:.6}");
    let t0 = Instant::now();
    for f in &frames {
        sock.send(*f, 0).unwrap();
    }
    eprintln!("bus-sender: {} frames handed to ZeroMQ in {:.2}s", frames.len(), t0.elapsed().as_secs_f64());
    drop(sock);
}
