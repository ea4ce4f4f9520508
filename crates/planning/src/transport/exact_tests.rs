//! The solver against two exact methods that share none of its code: brute force over every
//! integer plan (tiny instances), and successive shortest paths, the textbook min-cost max-flow
//! algorithm (small ones). Both give the most coverage and the least distance at it; the
//! solver's plan must be feasible and match both figures.

#![allow(clippy::unwrap_used)] // proptest! bodies are not seen as tests by clippy

use super::*;
use proptest::prelude::*;

/// Relative tolerance when comparing total distances computed in a different order.
fn same_km(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()))
}

fn cost(s: &[Node], r: &[Node], cap: Option<f64>) -> Vec<Vec<Option<f64>>> {
    s.iter()
        .map(|a| {
            r.iter()
                .map(|b| {
                    let d = km(a.at, b.at);
                    cap.is_none_or(|c| d <= c).then_some(d)
                })
                .collect()
        })
        .collect()
}

/// Every integer plan, best (most units, then least km) kept.
fn brute_force(s: &[Node], r: &[Node], cap: Option<f64>) -> (u64, f64) {
    fn go(
        cell: usize,
        c: &[Vec<Option<f64>>],
        left_s: &mut [u32],
        left_r: &mut [u32],
        units: u64,
        unit_km: f64,
        best: &mut (u64, f64),
    ) {
        let nr = left_r.len();
        if cell == left_s.len() * nr {
            if units > best.0 || (units == best.0 && unit_km < best.1) {
                *best = (units, unit_km);
            }
            return;
        }
        let (i, j) = (cell / nr, cell % nr);
        let most = match c[i][j] {
            Some(_) => left_s[i].min(left_r[j]),
            None => 0,
        };
        for x in 0..=most {
            left_s[i] -= x;
            left_r[j] -= x;
            let d = c[i][j].unwrap_or(0.0);
            go(
                cell + 1,
                c,
                left_s,
                left_r,
                units + u64::from(x),
                unit_km + f64::from(x) * d,
                best,
            );
            left_s[i] += x;
            left_r[j] += x;
        }
    }
    let c = cost(s, r, cap);
    let mut left_s: Vec<u32> = s.iter().map(|n| n.units).collect();
    let mut left_r: Vec<u32> = r.iter().map(|n| n.units).collect();
    let mut best = (0, 0.0);
    go(0, &c, &mut left_s, &mut left_r, 0, 0.0, &mut best);
    best
}

/// Min-cost max-flow by successive shortest paths (Bellman–Ford on the residual network).
fn successive_shortest_paths(s: &[Node], r: &[Node], cap: Option<f64>) -> (u64, f64) {
    let (ns, nr) = (s.len(), r.len());
    let (source, sink) = (ns + nr, ns + nr + 1);
    let n = ns + nr + 2;
    // Edges as (to, capacity, cost); edge k's reverse is k ^ 1.
    let mut to = Vec::new();
    let mut capacity: Vec<i64> = Vec::new();
    let mut price = Vec::new();
    let mut from = Vec::new();
    let mut add = |u: usize, v: usize, c: i64, p: f64| {
        for (a, b, cc, pp) in [(u, v, c, p), (v, u, 0, -p)] {
            from.push(a);
            to.push(b);
            capacity.push(cc);
            price.push(pp);
        }
    };
    for (i, node) in s.iter().enumerate() {
        add(source, i, i64::from(node.units), 0.0);
    }
    for (j, node) in r.iter().enumerate() {
        add(ns + j, sink, i64::from(node.units), 0.0);
    }
    for (i, row) in cost(s, r, cap).iter().enumerate() {
        for (j, d) in row.iter().enumerate() {
            if let Some(d) = d {
                add(i, ns + j, i64::MAX / 4, *d);
            }
        }
    }
    let (mut units, mut unit_km) = (0u64, 0.0);
    loop {
        let mut dist = vec![f64::INFINITY; n];
        let mut via = vec![usize::MAX; n];
        dist[source] = 0.0;
        for _ in 0..n {
            for k in 0..to.len() {
                if capacity[k] > 0 && dist[from[k]] + price[k] < dist[to[k]] - 1e-12 {
                    dist[to[k]] = dist[from[k]] + price[k];
                    via[to[k]] = k;
                }
            }
        }
        if dist[sink].is_infinite() {
            return (units, unit_km);
        }
        let mut push = i64::MAX;
        let mut v = sink;
        while v != source {
            push = push.min(capacity[via[v]]);
            v = from[via[v]];
        }
        let mut v = sink;
        while v != source {
            capacity[via[v]] -= push;
            capacity[via[v] ^ 1] += push;
            v = from[via[v]];
        }
        units += push as u64;
        unit_km += push as f64 * dist[sink];
    }
}

/// The plan keeps within every supply and demand and its totals add up.
fn check_feasible(s: &[Node], r: &[Node], cap: Option<f64>, plan: &Solved) {
    let mut sent = vec![0u64; s.len()];
    let mut got = vec![0u64; r.len()];
    let mut unit_km = 0.0;
    for f in &plan.flows {
        assert!(f.units > 0);
        let d = km(s[f.from].at, r[f.to].at);
        assert!(cap.is_none_or(|c| d <= c), "a pair beyond the cap");
        assert!((f.distance_km - d).abs() < 1e-9);
        sent[f.from] += u64::from(f.units);
        got[f.to] += u64::from(f.units);
        unit_km += f64::from(f.units) * d;
    }
    for (x, n) in sent.iter().zip(s) {
        assert!(*x <= u64::from(n.units));
    }
    for (x, n) in got.iter().zip(r) {
        assert!(*x <= u64::from(n.units));
    }
    assert_eq!(plan.covered, sent.iter().sum::<u64>());
    assert!(same_km(plan.unit_km, unit_km));
}

/// Sites within about 20 km of Yuyao, each with some units.
fn nodes(max_count: usize, max_units: u32) -> impl Strategy<Value = Vec<Node>> {
    prop::collection::vec((0.0f64..0.2, 0.0f64..0.2, 0..=max_units), 0..=max_count).prop_map(|v| {
        v.into_iter()
            .map(|(dlat, dlon, units)| Node {
                at: LatLon::new(29.95 + dlat, 121.05 + dlon).unwrap(),
                units,
            })
            .collect()
    })
}

fn cap() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![Just(None), (3.0f64..25.0).prop_map(Some)]
}

proptest! {
    #[test]
    fn matches_brute_force_on_tiny_instances(
        s in nodes(3, 3), r in nodes(3, 3), cap in cap(), nearest in 1usize..=3,
    ) {
        let plan = solve_with(&s, &r, cap, nearest).unwrap();
        check_feasible(&s, &r, cap, &plan);
        let (units, unit_km) = brute_force(&s, &r, cap);
        prop_assert_eq!(plan.covered, units);
        prop_assert!(same_km(plan.unit_km, unit_km), "{} vs {}", plan.unit_km, unit_km);
    }

    #[test]
    fn matches_min_cost_max_flow_up_to_four_by_four(
        s in nodes(4, 12), r in nodes(4, 12), cap in cap(), nearest in 1usize..=4,
    ) {
        let plan = solve_with(&s, &r, cap, nearest).unwrap();
        check_feasible(&s, &r, cap, &plan);
        let (units, unit_km) = successive_shortest_paths(&s, &r, cap);
        prop_assert_eq!(plan.covered, units);
        prop_assert!(same_km(plan.unit_km, unit_km), "{} vs {}", plan.unit_km, unit_km);
        if cap.is_none() {
            let supply: u64 = s.iter().map(|n| u64::from(n.units)).sum();
            let demand: u64 = r.iter().map(|n| u64::from(n.units)).sum();
            prop_assert_eq!(plan.covered, supply.min(demand));
        }
    }

    /// More sites than candidates: column generation must find what the nearest pairs miss.
    #[test]
    fn column_generation_reaches_the_optimum_on_larger_instances(
        s in nodes(12, 40), r in nodes(12, 40), cap in cap(),
    ) {
        let plan = solve_with(&s, &r, cap, 1).unwrap();
        check_feasible(&s, &r, cap, &plan);
        let (units, unit_km) = successive_shortest_paths(&s, &r, cap);
        prop_assert_eq!(plan.covered, units);
        prop_assert!(same_km(plan.unit_km, unit_km), "{} vs {}", plan.unit_km, unit_km);
    }
}
