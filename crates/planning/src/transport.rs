//! The transportation problem, solved exactly: which supplier sends how many units to which
//! receiver so that the most need is covered, and, among the plans that cover that much, the
//! one that moves units the fewest unit·kilometres.
//!
//! Why linear programming and not a greedy "nearest surplus first": greedy plans can strand
//! need (a near supplier spent on the wrong receiver) and cost more distance, and nobody could
//! say by how much. The transportation LP is totally unimodular, so with integral supplies and
//! demands the simplex method's vertex solutions are integral: the LP answer *is* the integer
//! plan. We solve it with good_lp over microlp (a pure-Rust simplex), in two phases: first the
//! most units that can be covered, then the least distance at that coverage. Every answer is
//! rounded and checked (integral, within every supply and demand, the coverage reached); an
//! answer that fails a check is an error, never a silent plan.
//!
//! A dense LP over every supplier–receiver pair grows with their product (a million columns for
//! a thousand of each), too slow for microlp. So the LP sees only candidate pairs: each
//! receiver's few nearest suppliers, each supplier's few nearest receivers, and the pairs of a
//! greedy plan. The restriction never costs exactness, because the answer is then checked
//! against *every* allowed pair, and pairs are added until the certificates hold (column
//! generation):
//! - node potentials from the restricted residual network (Bellman–Ford), closed by sink →
//!   source edges priced above any augmenting path, give every allowed pair a non-negative
//!   reduced cost: the residual network over all pairs has no negative cycle, so no plan covers
//!   more and none of the same coverage is shorter. The pairs with the most negative reduced
//!   costs are the columns added;
//! - and, on its own terms, no augmenting path exists over all pairs (max-flow/min-cut).

use caremap_model::nearest::NearestIndex;
use caremap_model::LatLon;
use good_lp::{constraint, microlp, variable, Expression, ProblemVariables, Solution, SolverModel};
use std::collections::{BTreeSet, VecDeque};

/// How many nearest partners each site gets as candidates before any column is added.
const NEAREST_CANDIDATES: usize = 6;
/// How many columns one pricing round adds per supplier, and per receiver, at most (the most
/// negative first).
const COLUMNS_PER_SITE: usize = 2;
/// How far an LP value may be from a whole number and still be read as that number.
const INTEGRALITY_TOLERANCE: f64 = 1e-6;
/// Reduced costs above minus this (in km) count as non-negative: haversine distances are
/// floating point, and a cycle shorter than a metre is no better plan.
const COST_TOLERANCE_KM: f64 = 1e-6;

/// A site that can give or needs units, for the solver: where it is and how many.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    pub at: LatLon,
    pub units: u32,
}

/// One positive flow of the solution: `units` from supplier `from` to receiver `to` (indices
/// into the slices given to [`solve`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flow {
    pub from: usize,
    pub to: usize,
    pub units: u32,
    pub distance_km: f64,
}

/// Why no plan could be given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SolveError {
    /// The LP solver itself failed (it reported the problem infeasible or unbounded, which a
    /// transportation problem never is, or another error).
    #[error("the LP solver failed: {0}")]
    Solver(String),
    /// The solver's answer broke a check: not whole units, over a supply or demand, short of the
    /// coverage it claimed, or not optimal on its own pairs.
    #[error("the LP answer failed its check: {0}")]
    Unverified(String),
}

/// The plan: its flows, and how many units it covers in all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Solved {
    pub flows: Vec<Flow>,
    pub covered: u64,
    pub unit_km: f64,
    pub stats: SolveStats,
}

/// How much work a plan took, for benchmarks and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SolveStats {
    /// Suppliers and receivers with units.
    pub suppliers: usize,
    pub receivers: usize,
    /// How many LP rounds it took (1 when the nearest candidates were enough).
    pub rounds: usize,
    /// How many supplier–receiver pairs the last LP had.
    pub columns: usize,
}

fn km(a: LatLon, b: LatLon) -> f64 {
    a.distance_m(b) / 1000.0
}

/// Solves the transportation problem between `suppliers` and `receivers`, a pair allowed only
/// when its distance is at most `max_km` (every pair when `None`).
pub fn solve(
    suppliers: &[Node],
    receivers: &[Node],
    max_km: Option<f64>,
) -> Result<Solved, SolveError> {
    solve_with(suppliers, receivers, max_km, NEAREST_CANDIDATES)
}

/// [`solve`] starting from `nearest` candidates a site (tests start from one, so that column
/// generation has work to do).
pub(crate) fn solve_with(
    suppliers: &[Node],
    receivers: &[Node],
    max_km: Option<f64>,
    nearest: usize,
) -> Result<Solved, SolveError> {
    let suppliers: Vec<(usize, Node)> = nonzero(suppliers);
    let receivers: Vec<(usize, Node)> = nonzero(receivers);
    if suppliers.is_empty() || receivers.is_empty() {
        return Ok(Solved::default());
    }
    let net = Network::new(
        suppliers.iter().map(|(_, n)| *n).collect(),
        receivers.iter().map(|(_, n)| *n).collect(),
        max_km,
    );
    let mut columns = net.nearest_candidates(nearest);
    let (greedy, greedy_covered) = net.greedy_pairs();
    columns.extend(greedy);
    // No plan covers more than the smaller side; when the greedy plan (whose pairs are columns)
    // reaches that, the coverage is known and the LP's first phase is skipped.
    let bound = net.supply().min(net.demand());
    let known_coverage = (greedy_covered == bound).then_some(bound);
    let mut rounds = 0;
    loop {
        rounds += 1;
        let flows = net.solve_restricted(&columns, known_coverage)?;
        // Pricing finds the pairs that would cover more or shorten the plan; the search for an
        // augmenting path is the coverage certificate on its own terms.
        let mut added = net.negative_columns(&columns, &flows)?;
        if added.is_empty() {
            if let Some(path) = net.augmenting_path(&flows) {
                if path.iter().all(|pair| columns.contains(pair)) {
                    return Err(SolveError::Unverified(
                        "the plan does not cover the most even over its own pairs".into(),
                    ));
                }
                added = path;
            }
        }
        let before = columns.len();
        columns.extend(added);
        if columns.len() == before {
            let covered = flows.iter().map(|f| u64::from(f.units)).sum();
            let unit_km = flows
                .iter()
                .map(|f| f64::from(f.units) * f.distance_km)
                .sum();
            let flows = flows
                .into_iter()
                .map(|f| Flow {
                    from: suppliers[f.from].0,
                    to: receivers[f.to].0,
                    ..f
                })
                .collect();
            return Ok(Solved {
                flows,
                covered,
                unit_km,
                stats: SolveStats {
                    suppliers: net.suppliers.len(),
                    receivers: net.receivers.len(),
                    rounds,
                    columns: columns.len(),
                },
            });
        }
    }
}

/// The nodes with units, each with its index in the caller's slice.
fn nonzero(nodes: &[Node]) -> Vec<(usize, Node)> {
    nodes
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, n)| n.units > 0)
        .collect()
}

/// The problem in the solver's own indices (only nodes with units).
struct Network {
    suppliers: Vec<Node>,
    receivers: Vec<Node>,
    max_km: Option<f64>,
    /// Every pair's distance in km, row by supplier; `None` beyond the cap. Computed once: the
    /// certificates read every pair each round.
    distance: Vec<Option<f64>>,
}

impl Network {
    fn new(suppliers: Vec<Node>, receivers: Vec<Node>, max_km: Option<f64>) -> Self {
        let distance = suppliers
            .iter()
            .flat_map(|s| {
                receivers.iter().map(move |r| {
                    let d = km(s.at, r.at);
                    max_km.is_none_or(|cap| d <= cap).then_some(d)
                })
            })
            .collect();
        Network {
            suppliers,
            receivers,
            max_km,
            distance,
        }
    }

    /// The pair's distance, or `None` when the cap forbids it.
    fn allowed(&self, i: usize, j: usize) -> Option<f64> {
        self.distance[i * self.receivers.len() + j]
    }

    /// More than any augmenting path can cost (each of its forward pairs at most the longest
    /// distance): the price of a unit not covered, so that the potentials of a plan that
    /// could cover more price the missing pairs as negative.
    fn uncovered_penalty(&self) -> f64 {
        let longest = self
            .distance
            .iter()
            .flatten()
            .fold(0.0f64, |a, &d| a.max(d));
        (self.suppliers.len() + self.receivers.len()) as f64 * (longest + 1.0)
    }

    /// The pairs of a greedy plan (each receiver, in turn, takes from its nearest suppliers
    /// that still have units), and the units it covers. Only candidates: the greedy plan covers much of what can be
    /// covered, so the first LP starts near the answer and few columns are priced in later.
    fn greedy_pairs(&self) -> (Vec<(usize, usize)>, u64) {
        let mut left: Vec<u32> = self.suppliers.iter().map(|n| n.units).collect();
        let index = NearestIndex::new(self.suppliers.iter().map(|n| n.at).zip(0..));
        let mut pairs = Vec::new();
        let mut covered = 0u64;
        for (j, r) in self.receivers.iter().enumerate() {
            let mut want = r.units;
            for (&i, m) in index.nearest(r.at) {
                if want == 0 || !self.within_cap(m / 1000.0) {
                    break;
                }
                if left[i] > 0 && self.allowed(i, j).is_some() {
                    let units = want.min(left[i]);
                    left[i] -= units;
                    want -= units;
                    covered += u64::from(units);
                    pairs.push((i, j));
                }
            }
        }
        (pairs, covered)
    }

    fn supply(&self) -> u64 {
        self.suppliers.iter().map(|n| u64::from(n.units)).sum()
    }

    fn demand(&self) -> u64 {
        self.receivers.iter().map(|n| u64::from(n.units)).sum()
    }

    fn within_cap(&self, d_km: f64) -> bool {
        self.max_km.is_none_or(|cap| d_km <= cap)
    }

    /// Each receiver's nearest suppliers and each supplier's nearest receivers, within the cap.
    fn nearest_candidates(&self, nearest: usize) -> BTreeSet<(usize, usize)> {
        let mut pairs = BTreeSet::new();
        let supplier_index = NearestIndex::new(self.suppliers.iter().map(|n| n.at).zip(0..));
        let receiver_index = NearestIndex::new(self.receivers.iter().map(|n| n.at).zip(0..));
        for (j, r) in self.receivers.iter().enumerate() {
            for (&i, m) in supplier_index.nearest(r.at).take(nearest) {
                if self.within_cap(m / 1000.0) {
                    pairs.insert((i, j));
                }
            }
        }
        for (i, s) in self.suppliers.iter().enumerate() {
            for (&j, m) in receiver_index.nearest(s.at).take(nearest) {
                if self.within_cap(m / 1000.0) {
                    pairs.insert((i, j));
                }
            }
        }
        pairs
    }

    /// The two LP phases over `columns` (only the second when the coverage is known), rounded
    /// and checked.
    fn solve_restricted(
        &self,
        columns: &BTreeSet<(usize, usize)>,
        known_coverage: Option<u64>,
    ) -> Result<Vec<Flow>, SolveError> {
        let columns: Vec<(usize, usize, f64)> = columns
            .iter()
            .filter_map(|&(i, j)| self.allowed(i, j).map(|d| (i, j, d)))
            .collect();
        if columns.is_empty() {
            return Ok(Vec::new());
        }
        let covered_units = match known_coverage {
            Some(units) => units,
            None => self
                .lp(&columns, None)?
                .iter()
                .map(|f| u64::from(f.units))
                .sum(),
        };
        if covered_units == 0 {
            return Ok(Vec::new());
        }
        self.lp(&columns, Some(covered_units))
    }

    /// Phase one (`coverage` is `None`): maximise the units moved. Phase two: minimise the
    /// unit·km with at least `coverage` units moved.
    fn lp(
        &self,
        columns: &[(usize, usize, f64)],
        coverage: Option<u64>,
    ) -> Result<Vec<Flow>, SolveError> {
        let mut vars = ProblemVariables::new();
        let x: Vec<_> = columns
            .iter()
            .map(|_| vars.add(variable().min(0.0)))
            .collect();
        let total: Expression = x.iter().copied().sum();
        let all_given = coverage == Some(self.supply());
        let all_met = !all_given && coverage == Some(self.demand());
        // Otherwise, in phase two, each supplier's units kept home are a variable, and the
        // coverage a row over those (one per supplier) rather than over every column.
        let kept: Vec<_> = match coverage {
            Some(_) if !all_given && !all_met => self
                .suppliers
                .iter()
                .map(|_| vars.add(variable().min(0.0)))
                .collect(),
            _ => Vec::new(),
        };
        // A row only for a node that has a column: an empty row is no constraint.
        let mut supplier_rows: Vec<Option<Expression>> = vec![None; self.suppliers.len()];
        let mut receiver_rows: Vec<Option<Expression>> = vec![None; self.receivers.len()];
        for (&(i, j, _), &v) in columns.iter().zip(&x) {
            *supplier_rows[i].get_or_insert_with(Expression::default) += v;
            *receiver_rows[j].get_or_insert_with(Expression::default) += v;
        }
        let mut model = match coverage {
            None => vars.maximise(total).using(microlp),
            Some(_) => {
                let distance: Expression =
                    columns.iter().zip(&x).map(|(&(_, _, d), &v)| d * v).sum();
                vars.minimise(distance).using(microlp)
            }
        };
        // When the coverage is a whole side (every unit given, or every need met), that side's
        // rows become equalities: no coverage row at all (the simplex is about ten times
        // slower with a row over every column).
        if let Some(units) = coverage.filter(|_| !kept.is_empty()) {
            let mut may_keep = -(units as f64);
            let mut kept_total = Expression::default();
            for ((row, node), &k) in supplier_rows.iter_mut().zip(&self.suppliers).zip(&kept) {
                if let Some(row) = row.take() {
                    model.add_constraint(constraint!(row + k == f64::from(node.units)));
                    may_keep += f64::from(node.units);
                    kept_total += k;
                }
            }
            model.add_constraint(constraint!(kept_total <= may_keep));
        }
        let rows = (supplier_rows.into_iter().zip(&self.suppliers)).map(|(r, n)| (r, n, all_given));
        let rows = rows
            .chain((receiver_rows.into_iter().zip(&self.receivers)).map(|(r, n)| (r, n, all_met)));
        for (row, node, whole) in rows {
            let units = f64::from(node.units);
            match row {
                Some(row) if whole => model.add_constraint(constraint!(row == units)),
                Some(row) => model.add_constraint(constraint!(row <= units)),
                // A node without a column cannot be met in full; phase two would be infeasible.
                None if whole => {
                    return Err(SolveError::Unverified(
                        "a site that must send or receive all has no candidate pair".into(),
                    ))
                }
                None => continue,
            };
        }
        let solution = model
            .solve()
            .map_err(|e| SolveError::Solver(e.to_string()))?;
        let mut flows = Vec::new();
        for (&(i, j, d), &v) in columns.iter().zip(&x) {
            let value = solution.value(v);
            let units = value.round();
            if (value - units).abs() > INTEGRALITY_TOLERANCE || units < 0.0 {
                return Err(SolveError::Unverified(format!(
                    "the flow from supplier {i} to receiver {j} is {value}, not a whole number"
                )));
            }
            if units >= 1.0 {
                flows.push(Flow {
                    from: i,
                    to: j,
                    // Within a supply, which is a u32; checked just below.
                    units: units.min(f64::from(u32::MAX)) as u32,
                    distance_km: d,
                });
            }
        }
        self.check_feasible(&flows, coverage)?;
        Ok(flows)
    }

    /// Every supply and demand respected, and at least `coverage` units moved.
    fn check_feasible(&self, flows: &[Flow], coverage: Option<u64>) -> Result<(), SolveError> {
        let (sent, received) = self.totals(flows);
        for (i, (s, n)) in sent.iter().zip(&self.suppliers).enumerate() {
            if *s > u64::from(n.units) {
                return Err(SolveError::Unverified(format!(
                    "supplier {i} sends {s} of its {} units",
                    n.units
                )));
            }
        }
        for (j, (r, n)) in received.iter().zip(&self.receivers).enumerate() {
            if *r > u64::from(n.units) {
                return Err(SolveError::Unverified(format!(
                    "receiver {j} gets {r} for a need of {}",
                    n.units
                )));
            }
        }
        let moved: u64 = sent.iter().sum();
        match coverage {
            Some(units) if moved < units => Err(SolveError::Unverified(format!(
                "the plan moves {moved} units, short of the {units} covered in phase one"
            ))),
            _ => Ok(()),
        }
    }

    fn totals(&self, flows: &[Flow]) -> (Vec<u64>, Vec<u64>) {
        let mut sent = vec![0u64; self.suppliers.len()];
        let mut received = vec![0u64; self.receivers.len()];
        for f in flows {
            sent[f.from] += u64::from(f.units);
            received[f.to] += u64::from(f.units);
        }
        (sent, received)
    }

    /// The forward pairs of a path that would cover one more unit over *all* allowed pairs, or
    /// `None` when the plan's coverage is the maximum (breadth-first search of the residual
    /// network: supplier → any allowed receiver, receiver → a supplier that sends to it).
    fn augmenting_path(&self, flows: &[Flow]) -> Option<Vec<(usize, usize)>> {
        let (sent, received) = self.totals(flows);
        let mut senders_to: Vec<Vec<usize>> = vec![Vec::new(); self.receivers.len()];
        for f in flows {
            senders_to[f.to].push(f.from);
        }
        // How each node was reached: a receiver from a supplier, a supplier from a receiver
        // (None: straight from the source, it has units left).
        let mut supplier_from: Vec<Option<Option<usize>>> = vec![None; self.suppliers.len()];
        let mut receiver_from: Vec<Option<usize>> = vec![None; self.receivers.len()];
        let mut queue = VecDeque::new();
        for (i, n) in self.suppliers.iter().enumerate() {
            if sent[i] < u64::from(n.units) {
                supplier_from[i] = Some(None);
                queue.push_back(i);
            }
        }
        while let Some(i) = queue.pop_front() {
            for j in 0..self.receivers.len() {
                if receiver_from[j].is_some() || self.allowed(i, j).is_none() {
                    continue;
                }
                receiver_from[j] = Some(i);
                if received[j] < u64::from(self.receivers[j].units) {
                    return Some(self.trace_back(j, &supplier_from, &receiver_from));
                }
                for &k in &senders_to[j] {
                    if supplier_from[k].is_none() {
                        supplier_from[k] = Some(Some(j));
                        queue.push_back(k);
                    }
                }
            }
        }
        None
    }

    fn trace_back(
        &self,
        mut j: usize,
        supplier_from: &[Option<Option<usize>>],
        receiver_from: &[Option<usize>],
    ) -> Vec<(usize, usize)> {
        let mut pairs = Vec::new();
        // Each step goes back one edge of a BFS tree, so this ends within the node count.
        for _ in 0..=self.receivers.len() {
            let Some(i) = receiver_from[j] else { break };
            pairs.push((i, j));
            match supplier_from[i] {
                Some(Some(prev)) => j = prev,
                _ => break,
            }
        }
        pairs
    }

    /// Pairs whose reduced cost is negative under potentials of the restricted residual
    /// network: the columns that could shorten the plan. Empty means the plan is optimal over
    /// every allowed pair.
    fn negative_columns(
        &self,
        columns: &BTreeSet<(usize, usize)>,
        flows: &[Flow],
    ) -> Result<Vec<(usize, usize)>, SolveError> {
        let potential = self.potentials(columns, flows)?;
        let (ns, nr) = (self.suppliers.len(), self.receivers.len());
        let mut by_supplier: Vec<Vec<(f64, usize)>> = vec![Vec::new(); ns];
        let mut by_receiver: Vec<Vec<(f64, usize)>> = vec![Vec::new(); nr];
        for (i, row) in by_supplier.iter_mut().enumerate() {
            for (j, column) in by_receiver.iter_mut().enumerate() {
                let Some(d) = self.allowed(i, j) else {
                    continue;
                };
                let reduced = d + potential[2 + i] - potential[2 + ns + j];
                if reduced < -COST_TOLERANCE_KM && !columns.contains(&(i, j)) {
                    row.push((reduced, j));
                    column.push((reduced, i));
                }
            }
        }
        // The most negative few of each supplier and of each receiver ("multiple pricing"):
        // enough columns that few rounds are needed, few enough that the LP stays small.
        let mut added = BTreeSet::new();
        for (i, mut row) in by_supplier.into_iter().enumerate() {
            row.sort_by(|a, b| a.0.total_cmp(&b.0));
            added.extend(row.into_iter().take(COLUMNS_PER_SITE).map(|(_, j)| (i, j)));
        }
        for (j, mut column) in by_receiver.into_iter().enumerate() {
            column.sort_by(|a, b| a.0.total_cmp(&b.0));
            added.extend(
                column
                    .into_iter()
                    .take(COLUMNS_PER_SITE)
                    .map(|(_, i)| (i, j)),
            );
        }
        Ok(added.into_iter().collect())
    }

    /// Shortest-path potentials (Bellman–Ford from a virtual root at 0 to every node) of the
    /// residual network over `columns`, closed by sink → source edges priced at
    /// [`Network::uncovered_penalty`], so that a plan of the most coverage and then the least
    /// distance is exactly one without negative cycles. Nodes: 0 the source, 1 the sink, then the suppliers,
    /// then the receivers. A negative cycle there means the LP answer was not optimal even on
    /// its own pairs: an error.
    fn potentials(
        &self,
        columns: &BTreeSet<(usize, usize)>,
        flows: &[Flow],
    ) -> Result<Vec<f64>, SolveError> {
        let (ns, nr) = (self.suppliers.len(), self.receivers.len());
        let (sent, received) = self.totals(flows);
        let supplier = |i: usize| 2 + i;
        let receiver = |j: usize| 2 + ns + j;
        let mut edges: Vec<(usize, usize, f64)> = Vec::new();
        for (i, n) in self.suppliers.iter().enumerate() {
            if sent[i] < u64::from(n.units) {
                edges.push((0, supplier(i), 0.0));
            }
            if sent[i] > 0 {
                edges.push((supplier(i), 0, 0.0));
            }
        }
        for (j, n) in self.receivers.iter().enumerate() {
            if received[j] < u64::from(n.units) {
                edges.push((receiver(j), 1, 0.0));
            }
            if received[j] > 0 {
                edges.push((1, receiver(j), 0.0));
            }
        }
        for &(i, j) in columns {
            if let Some(d) = self.allowed(i, j) {
                edges.push((supplier(i), receiver(j), d));
            }
        }
        for f in flows {
            edges.push((receiver(f.to), supplier(f.from), -f.distance_km));
        }
        // Covering a unit more earns the penalty (sink → source), covering one less pays it:
        // a cycle through the sink → source edge is an augmenting path, negative when it exists.
        let penalty = self.uncovered_penalty();
        edges.push((1, 0, -penalty));
        if !flows.is_empty() {
            edges.push((0, 1, penalty));
        }
        let nodes = 2 + ns + nr;
        let mut dist = vec![0.0f64; nodes];
        for _ in 0..=nodes {
            let mut changed = false;
            for &(u, v, c) in &edges {
                if dist[u] + c < dist[v] - COST_TOLERANCE_KM {
                    dist[v] = dist[u] + c;
                    changed = true;
                }
            }
            if !changed {
                return Ok(dist);
            }
        }
        Err(SolveError::Unverified(
            "the plan is not the shortest even over its own pairs (negative cycle)".into(),
        ))
    }
}

#[cfg(test)]
mod exact_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn node(lat: f64, lon: f64, units: u32) -> Node {
        Node {
            at: LatLon::new(lat, lon).unwrap(),
            units,
        }
    }

    #[test]
    fn nothing_to_move_without_both_sides() {
        let s = [node(30.0, 121.0, 10)];
        assert_eq!(solve(&s, &[], None).unwrap(), Solved::default());
        assert_eq!(solve(&s, &[node(30.0, 121.1, 0)], None).unwrap().covered, 0);
    }

    #[test]
    fn a_greedy_nearest_choice_would_strand_need() {
        // Receiver A is nearest to both suppliers, receiver B only reachable from S2 (cap 20 km).
        // Greedy would send S2's units to A; the exact plan sends S1 to A and S2 to B.
        let s = [node(30.0, 121.0, 5), node(30.0, 121.1, 5)];
        let r = [node(30.0, 121.05, 5), node(30.0, 121.25, 5)];
        let plan = solve(&s, &r, Some(20.0)).unwrap();
        assert_eq!(plan.covered, 10);
        let mut pairs: Vec<_> = plan.flows.iter().map(|f| (f.from, f.to, f.units)).collect();
        pairs.sort_unstable();
        assert_eq!(pairs, vec![(0, 0, 5), (1, 1, 5)]);
    }
}
