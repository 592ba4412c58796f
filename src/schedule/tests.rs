use super::*;

fn constant(duration: f64, rate: f64) -> Segment {
    Segment::new(duration, rate, rate).unwrap()
}

/// Every due time (seconds into the profile) of a run where `runners` ask every `every` seconds.
fn run(profile: &Profile, runners: usize, every: f64) -> Vec<Vec<f64>> {
    let mut leaser = Leaser::new(profile.clone(), 2.0);
    let mut due = vec![Vec::new(); runners];
    let mut now = 0.0;
    while !leaser.over(now) {
        for (r, times) in due.iter_mut().enumerate() {
            if let Some(lease) = leaser.lease(r as i64, now, runners) {
                times.extend((1..=lease.count).map(|j| lease.due(profile, j)));
            }
        }
        now += every;
    }
    due
}

#[test]
fn a_constant_rate_is_exact_over_a_minute() {
    let profile = Profile::new(vec![constant(60.0, 100.0)]);
    assert_eq!(profile.time_at(1.0), Some(0.01));
    assert_eq!(profile.time_at(6000.0), Some(60.0));
    assert_eq!(profile.time_at(6001.0), None);
    let due = run(&profile, 1, 0.37);
    assert_eq!(due[0].len(), 6000);
    assert!(due[0].windows(2).all(|w| w[0] < w[1]));
    assert!((due[0][5999] - 60.0).abs() < 1e-9);
    // A 100th of a second apart, whatever the lease boundaries.
    assert!(due[0].windows(2).all(|w| (w[1] - w[0] - 0.01).abs() < 1e-6));
}

#[test]
fn a_ramp_accrues_its_integral() {
    // 0 → 100/s over 10 s: 500 arrivals, arrival k at sqrt(2k / 10).
    let profile = Profile::new(vec![Segment::new(10.0, 0.0, 100.0).unwrap()]);
    assert_eq!(profile.total(), 500.0);
    let t = profile.time_at(250.0).unwrap();
    assert!((t - (2.0f64 * 250.0 / 10.0).sqrt()).abs() < 1e-9, "{t}");
    assert_eq!(run(&profile, 1, 0.5)[0].len(), 500);
    // A falling ramp: 100 → 0 over 10 s, the same 500, front-loaded.
    let down = Profile::new(vec![Segment::new(10.0, 100.0, 0.0).unwrap()]);
    assert!(down.time_at(250.0).unwrap() < 5.0);
    assert_eq!(run(&down, 1, 0.5)[0].len(), 500);
}

#[test]
fn segments_follow_one_another() {
    let profile = Profile::new(vec![
        constant(2.0, 10.0),
        Segment::new(2.0, 10.0, 30.0).unwrap(),
        constant(0.0, 1000.0),
        constant(1.0, 0.0),
        constant(1.0, 5.0),
    ]);
    assert_eq!(profile.duration(), 6.0);
    assert_eq!(profile.total(), 20.0 + 40.0 + 5.0);
    assert_eq!(profile.time_at(20.0), Some(2.0));
    assert_eq!(profile.integral(4.5), 60.0);
    // The idle second is skipped: arrival 61 is 0.2 s into the last segment.
    assert!((profile.time_at(61.0).unwrap() - 5.2).abs() < 1e-9);
    assert_eq!(run(&profile, 1, 0.3)[0].len(), 65);
}

#[test]
fn runners_share_the_rate() {
    let profile = Profile::new(vec![constant(30.0, 200.0)]);
    let due = run(&profile, 3, 0.25);
    let total: usize = due.iter().map(Vec::len).sum();
    assert!((5997..=6000).contains(&total), "{total}");
    for times in &due {
        assert!((1998..=2000).contains(&times.len()), "{}", times.len());
    }
    // Merged, they are the profile's own times, each once.
    let mut all: Vec<f64> = due.concat();
    all.sort_by(f64::total_cmp);
    assert!(all.windows(2).all(|w| w[1] - w[0] > 1e-4));
}

#[test]
fn a_joining_runner_takes_no_window_twice() {
    let profile = Profile::new(vec![constant(10.0, 100.0)]);
    let mut leaser = Leaser::new(profile.clone(), 2.0);
    let first = leaser.lease(1, 0.0, 1).unwrap();
    assert_eq!((first.from, first.to, first.count), (0.0, 2.0, 200));
    // Runner 2 joins at 1 s: it begins where runner 1's window ends, at half the rate.
    let joined = leaser.lease(2, 1.0, 2).unwrap();
    assert_eq!((joined.from, joined.to, joined.count), (2.0, 3.0, 50));
    let next = leaser.lease(1, 1.0, 2).unwrap();
    assert_eq!((next.from, next.to, next.count), (2.0, 3.0, 50));
    assert_eq!(leaser.lease(1, 1.0, 2), None);
    leaser.remove_runner(2);
    // Runner 2 is gone: runner 1 takes the whole rate from its next window.
    let alone = leaser.lease(1, 2.0, 1).unwrap();
    assert_eq!((alone.from, alone.to, alone.count), (3.0, 4.0, 100));
    assert_eq!(leaser.leased, 400);
}

#[test]
fn a_runner_back_from_silence_does_not_repeat_the_others_windows() {
    let profile = Profile::new(vec![constant(20.0, 100.0)]);
    let mut leaser = Leaser::new(profile, 2.0);
    let mut leased = 0;
    for r in [1, 2] {
        leased += leaser.lease(r, 0.0, 2).unwrap().count;
    }
    // Runner 2 goes quiet at 0 s; runner 1 is counted alone from 1 s on.
    let mut now = 0.5;
    while now < 12.0 {
        leased += leaser
            .lease(1, now, if now < 1.0 { 2 } else { 1 })
            .map_or(0, |l| l.count);
        now += 0.5;
    }
    // Back at 12 s: it starts where the others leave room, not at 2 s.
    let back = leaser.lease(2, 12.0, 2).unwrap();
    assert!(back.from >= 12.0 && back.to <= 14.0 + 1e-9, "{back:?}");
    leased += back.count;
    // Nothing was leased twice: at most the profile's 1,400 journeys up to 14 s.
    assert!(leased <= 1400, "{leased}");
}

#[test]
fn the_cap_drops_and_counts() {
    let profile = Profile::new(vec![constant(1.0, 10.0)]);
    let mut leaser = Leaser::new(profile.clone(), 2.0);
    let mut queue: ArrivalQueue<()> = ArrivalQueue::new(profile, 100.0);
    queue.cap = Some(3);
    queue.push_lease(&leaser.lease(1, 0.0, 1).unwrap(), vec![], false);
    assert_eq!(queue.horizon, 101.0);
    let due = queue.take_due(100.45, 0);
    assert_eq!((due.start.len(), due.dropped.len()), (3, 1));
    assert!((due.start[0].due - 100.1).abs() < 1e-9);
    // One finished: one more may start.
    let due = queue.take_due(100.5, 2);
    assert_eq!((due.start.len(), due.dropped.len()), (1, 0));
    let due = queue.take_due(200.0, 3);
    assert_eq!((due.start.len(), due.dropped.len()), (0, 5));
    assert_eq!(queue.next_due(), None);
}

#[test]
fn journeys_without_data_are_dropped() {
    let profile = Profile::new(vec![constant(1.0, 4.0)]);
    let mut leaser = Leaser::new(profile.clone(), 2.0);
    let mut queue = ArrivalQueue::new(profile, 0.0);
    queue.push_lease(&leaser.lease(1, 0.0, 1).unwrap(), vec!["a", "b"], true);
    let due = queue.take_due(1.0, 0);
    let started: Vec<_> = due.start.iter().map(|a| a.item).collect();
    assert_eq!(started, vec![Some("a"), Some("b")]);
    assert_eq!(due.dropped.len(), 2);
}

#[test]
fn bad_input_names_the_value() {
    assert_eq!(Segment::new(1.0, -1.0, 1.0), Err(RateError::Rate(-1.0)));
    assert!(matches!(Segment::new(1.0, 1.0, f64::NAN), Err(RateError::Rate(r)) if r.is_nan()));
    assert_eq!(
        Segment::new(f64::INFINITY, 1.0, 1.0),
        Err(RateError::Duration(f64::INFINITY))
    );
    assert_eq!(
        RateError::Rate(-2.5).to_string(),
        "arrival rate -2.5 is not a number >= 0 (journeys per second)"
    );
}
