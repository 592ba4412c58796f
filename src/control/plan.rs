//! How much new work one `request_work` may hand out by volume (the spawn rate is `bucket.rs`'s),
//! and in which (shuffled) scenario order.
use rand::seq::SliceRandom;
use rand::Rng;

use super::trackers::Work;

/// Everything the decision depends on.
pub struct PlanInput<'a> {
    pub required: &'a Work,
    pub current: &'a Work,
    pub runner_current: i64,
    pub num_runners: usize,
    /// `--runner-max-journeys` of the asking runner.
    pub runner_max: Option<i64>,
}

/// Returns the shuffled scenario ids still short of their volume, and how many of them to start.
pub fn plan_work(input: &PlanInput<'_>, rng: &mut impl Rng) -> (Vec<i64>, usize) {
    let total: i64 = input.required.values().sum();
    let share = total as f64 / input.num_runners.max(1) as f64 - input.runner_current as f64;
    let mut limit = share.max(0.0);
    if let Some(max) = input.runner_max {
        // NOTE: mite 2.11 compares with the share again here, so the option had no effect.
        limit = limit.min((max - input.runner_current).max(0) as f64);
    }
    // The fractional part is rounded up at random, so small shares still make progress.
    let frac = limit.fract();
    if frac > 0.0 && frac > rng.random::<f64>() {
        limit += 1.0;
    }
    let limit = limit.floor() as usize;
    let mut ids = Vec::new();
    for (scenario, required) in input.required {
        let missing = required - input.current.get(scenario).copied().unwrap_or(0);
        if missing >= 1 {
            ids.extend(std::iter::repeat_n(*scenario, missing as usize));
        }
    }
    ids.shuffle(rng);
    (ids, limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn w(pairs: &[(i64, i64)]) -> Work {
        pairs.iter().copied().collect()
    }

    fn input<'a>(required: &'a Work, current: &'a Work) -> PlanInput<'a> {
        PlanInput {
            required,
            current,
            runner_current: 0,
            num_runners: 1,
            runner_max: None,
        }
    }

    #[test]
    fn hands_out_what_is_missing() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let (req, cur) = (w(&[(1, 3), (2, 2)]), w(&[(1, 1), (2, 5)]));
        let (mut ids, limit) = plan_work(&input(&req, &cur), &mut rng);
        ids.sort();
        assert_eq!(ids, vec![1, 1]);
        assert_eq!(limit, 5);
    }

    #[test]
    fn share_and_runner_max_cap_the_limit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let (req, cur) = (w(&[(1, 100)]), w(&[]));
        let mut inp = input(&req, &cur);
        inp.num_runners = 4;
        assert_eq!(plan_work(&inp, &mut rng).1, 25);
        inp.runner_current = 20;
        assert_eq!(plan_work(&inp, &mut rng).1, 5);
        inp.runner_max = Some(22);
        assert_eq!(plan_work(&inp, &mut rng).1, 2);
    }

    #[test]
    fn fractions_round_up_sometimes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let (req, cur) = (w(&[(1, 1)]), w(&[]));
        let mut inp = input(&req, &cur);
        inp.num_runners = 2;
        let ups: usize = (0..1000).map(|_| plan_work(&inp, &mut rng).1).sum();
        assert!((350..650).contains(&ups), "{ups}");
    }
}
