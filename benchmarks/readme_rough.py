"""README section of benchmarks/rough_terrain.py: MyoAssist's rough policy on MyoAssist's field, and the contacts."""

from __future__ import annotations

from benchmarks.readme_myoassist import early_ends
from benchmarks.readme_tables import DASH, Json, f1, f2, f3, run_table, section, span, table

NOTE = (
    "MyoAssist's rough-terrain session (`train_session_20250803-154021_rough`, 219M steps) evaluated by "
    "`python -m mjx_myoassist.evaluate` from the fixtures' MyoAssist root: deterministic, 10 s from random "
    "reference starts, 1.25 m/s, reference `recorded/surrogate_short_reference_gait.npz`, off-trajectory "
    "termination off, on the field its config makes (`random` 0.15 m from `env_params.seed` 1234: MyoAssist's "
    "one field, equal to MyoAssist's node for node). The MyoAssist column is its own env on the same case "
    "(`recorded/results_rough_eval.json`). On a height field the MJX-ready foot spheres sit in rows at the soles' "
    "medial and lateral edges (`env_params.foot_contact_rows: auto`); the middle-row row is the flat-ground layout "
    "on the same field (docs/models.md, Rough terrain)."
)
ROWS = {
    "original_contacts_cpu": "MyoAssist's original mesh contacts, cpu backend",
    "mjx_ready_cpu": "MJX-ready edits (edge rows), cpu backend",
    "mjx_ready_cpu_middle_row": "MJX-ready edits with one middle sphere row, cpu backend",
    "mjx_ready_mjx_f32_via_armature": "MJX-ready edits (edge rows), MJX float32, `via_point_armature: 0.01`",
    "mjx_ready_warp_f32": "MJX-ready edits (edge rows), MuJoCo Warp float32 (Warp's CPU device here)",
    "mjx_ready_warp_f32_via_armature": "MJX-ready edits (edge rows), MuJoCo Warp float32, `via_point_armature: 0.01`",
    "rough_policy_flat_cpu": "rough policy on flat ground, MJX-ready edits, cpu backend",
    "tutorial_policy_rough_cpu": "flat tutorial policy on the rough field, MJX-ready edits, cpu backend",
}
CONTACT_NOTE = (
    "`--contacts`: one episode of the rough policy with MyoAssist's original contacts (seed 0; it falls at the "
    "step given), and at each of its states every contact model's vertical ground reaction force per foot "
    "(body weights), its centre of pressure (x, where both models load the foot with more than 0.05 body "
    "weights) and the foot's clearance over the field in swing (the lowest sphere bottom or mesh vertex above "
    "the heights under it), from `mj_forward` on the same state."
)


def _myoassist_cell(ref: Json | None) -> str:
    if ref is None:
        return DASH
    return f"{ref['falls']}/{ref['episodes']} fell, {f2(ref['distance_mean'])} m"


def _row(key: str, r: Json, ref: Json | None) -> list[str]:
    if "error" in r:
        return [ROWS.get(key, key), str(r["error"]), DASH, DASH, DASH, _myoassist_cell(ref), r.get("measured_at", "")]
    n = len(r["episodes"])
    distance = f"{f2(r['distance_mean'])} ({span(r['distance_min'], r['distance_max'])})"
    return [ROWS.get(key, key), f"{r['falls']}/{n}", distance, f3(r["speed_mean"]), early_ends(r["episodes"]),
            _myoassist_cell(ref), r.get("measured_at", "")]  # fmt: skip


def _contacts(c: Json) -> str:
    header = ["contact model", "GRF mean (BW; original)", "GRF RMS difference (BW)", "stance agreement",
              "COP x difference (cm)", "swing clearance (cm; original)", "clearance difference (cm)"]  # fmt: skip
    rows = [[name, f"{f3(m['grf_mean_bw'])} ({f3(m['grf_mean_bw_original'])})", f3(m["grf_rms_bw"]),
             f"{100 * m['stance_agreement']:.0f} %", f1(m["cop_x_mean_abs_cm"]),
             f"{f1(m['clearance_swing_mean_cm'])} ({f1(m['clearance_swing_mean_cm_original'])})",
             f1(m["clearance_swing_mean_abs_diff_cm"])]
            for name, m in c.items() if isinstance(m, dict) and "grf_rms_bw" in m]  # fmt: skip
    episode = c["episode"]
    ended = f"fell at step {episode['steps']}" if episode["terminated"] else f"{episode['steps']} steps"
    return f"Episode: seed {episode['seed']}, {ended}; measured at {c.get('measured_at', '')}.\n\n" + table(
        header, rows
    )


PROBE_NOTE = (
    "`--warp-probe`: the MJX-ready model's standing keyframe placed at x on MyoAssist's field and lowered until "
    "its feet press 2 mm in; one forward pass from that state in C MuJoCo and in MuJoCo Warp: how many contacts "
    "each finds and the root's accelerations (pelvis x, y, tilt)."
)


def _probe(p: Json) -> str:
    rows = [[f1(r["x"]), r["contacts_c"], r["contacts_warp"], ", ".join(f2(a) for a in r["root_qacc_c"]),
             ", ".join(f2(a) for a in r["root_qacc_warp"])] for r in p["rows"]]  # fmt: skip
    header = ["x (m)", "contacts, C MuJoCo", "contacts, Warp", "root qacc, C MuJoCo", "root qacc, Warp"]
    return f"Measured at {p.get('measured_at', '')}.\n\n" + table(header, rows)


def rough_terrain_section(d: Json) -> str:
    refs = d["myoassist"]
    header = ["row", "falls", "distance mean (min-max) m", "speed (m/s)", "ended early (end (count): control steps)",
              "MyoAssist", "measured at"]  # fmt: skip
    body = [_row(k, d["rows"][k], refs.get(k)) for k in ROWS if k in d["rows"]]
    contacts = d.get("contacts")
    blocks = [run_table(d), table(header, body)]
    if contacts:
        blocks += [CONTACT_NOTE, _contacts(contacts)]
    if d.get("warp_probe"):
        blocks += [PROBE_NOTE, _probe(d["warp_probe"])]
    return section("MyoAssist's rough-terrain policy on MyoAssist's field", NOTE, *blocks)
