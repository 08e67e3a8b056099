"""Generator part: the Three-Lists-in-One lists (problem, process, data, responsibility) with a recorded
set of injected gaps of every kind the gap finder looks for.

Problem types come from county governance as the case study names it: 12345 hotline categories,
"take a photo and report" items, grid-inspection findings, IoT sensor alarms, letters and calls,
border-trade anomalies and data-quality problems of the pool itself. Every type runs the closed loop
monitoring - analysis - response - evaluation - feedback - optimization as seven steps.

The clean lists are built first (every step one lead, data behind every step, every item owned and
granted to the departments that need it, no step longer than its type's limit); then gaps are injected
on distinct, randomly chosen objects and each one is written to `lists_seed_gap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, insert, select

from queries.generate import reference as ref
from queries.generate.parts import BuildContext, Part
from queries.tables import (
    LISTS_TABLES,
    lists_data_grant,
    lists_data_item,
    lists_duty,
    lists_problem,
    lists_seed_gap,
    lists_step,
    lists_step_data,
    lists_step_duty,
    person,
)

DAY_H = 8  # working hours in a working day
GAP_KINDS = ("no_process", "void", "overlap", "no_data", "no_owner", "permission", "over_limit")
# problem types and injected gaps of each kind, per scale
SCALE_PROBLEMS = {"test": 20, "demo": 30, "full": 40}
SCALE_GAPS = {"test": 2, "demo": 3, "full": 4}

# channel -> (department code that takes the case in, data item it arrives as; None = the type's own)
CHANNELS: dict[str, tuple[str, str | None]] = {
    "hotline": ("data_bureau", "hotline_ticket"),
    "photo": ("city_management", "photo_report"),
    "grid": ("civil_affairs", "grid_patrol"),
    "iot": ("data_bureau", None),
    "petition": ("civil_affairs", "petition_case"),
    "border": ("port_office", None),
    "quality": ("data_bureau", None),
}


@dataclass(frozen=True)
class ProblemSpec:
    code: str
    zh: str
    en: str
    channel: str
    severity: int
    volume: int
    limit_hours: int
    owner: str  # department code that answers for the type and handles it
    module: str
    items: tuple[str, ...]  # data items behind analysis and handling
    support: tuple[str, ...] = ()


def _p(
    code: str,
    zh: str,
    en: str,
    channel: str,
    severity: int,
    volume: int,
    limit: str,
    owner: str,
    module: str,
    items: tuple[str, ...],
    support: tuple[str, ...] = (),
) -> ProblemSpec:
    hours = int(limit[:-1]) * (DAY_H if limit.endswith("d") else 1)
    return ProblemSpec(code, zh, en, channel, severity, volume, hours, owner, module, items, support)


PROBLEMS: tuple[ProblemSpec, ...] = (
    _p("hotline_outage", "停水停电诉求", "Water or power outage", "hotline", 3, 4200, "2d", "housing", "energy", ("outage_log", "meter_load"), ("development_reform", "emergency")),
    _p("photo_road", "道路破损", "Damaged road surface", "photo", 2, 3200, "5d", "transport", "transport", ("road_condition",), ("city_management",)),
    _p("grid_building", "危房隐患", "Unsafe building", "grid", 3, 420, "3d", "housing", "community", ("housing_registry", "resident_registry"), ("emergency",)),
    _p("iot_flood", "内涝水位告警", "Waterlogging alarm", "iot", 3, 180, "4h", "emergency", "energy", ("water_level", "road_condition"), ("housing", "city_management")),
    _p("petition_land", "征地拆迁信访", "Land-acquisition petition", "petition", 3, 380, "60d", "housing", "community", ("housing_registry", "resident_registry"), ("development_reform",)),
    _p("border_smuggling", "走私风险预警", "Smuggling early warning", "border", 3, 150, "1d", "port_office", "trade", ("risk_score", "customs_release", "border_declarations"), ("public_security", "commerce")),
    _p("quality_duplicate", "跨部门重复录入", "Cross-department duplicate entry", "quality", 2, 1200, "10d", "data_bureau", "community", ("dup_rate", "resident_registry"), ("public_security", "civil_affairs")),
    _p("hotline_property", "物业纠纷", "Property-management dispute", "hotline", 1, 9800, "10d", "housing", "community", ("property_fees", "housing_registry"), ("civil_affairs",)),
    _p("photo_litter", "垃圾乱堆乱放", "Dumped waste", "photo", 1, 8800, "2d", "city_management", "community", ("grid_patrol",)),
    _p("grid_dispute", "邻里矛盾纠纷", "Neighbourhood dispute", "grid", 2, 3900, "10d", "civil_affairs", "community", ("resident_registry",), ("public_security",)),
    _p("iot_traffic", "交通拥堵告警", "Traffic congestion alarm", "iot", 2, 5200, "4h", "transport", "transport", ("road_condition", "checkpoint_flow"), ("public_security",)),
    _p("petition_social", "社会保障信访", "Social-security petition", "petition", 2, 520, "60d", "civil_affairs", "health", ("elderly_services", "resident_registry")),
    _p("border_declaration", "边民互市申报异常", "Anomalous border-trade declaration", "border", 2, 820, "3d", "commerce", "trade", ("border_declarations",), ("port_office",)),
    _p("quality_area_code", "区划编码不一致", "Inconsistent area codes", "quality", 1, 900, "10d", "data_bureau", "community", ("badcode_rate", "resident_registry")),
    _p("hotline_wage", "拖欠农民工工资", "Unpaid migrant wages", "hotline", 3, 1300, "5d", "industry_it", "parks", ("wage_payroll", "employment"), ("public_security",)),
    _p("photo_stall", "占道经营", "Street-stall obstruction", "photo", 1, 5400, "2d", "city_management", "consumption", ("grid_patrol",), ("market_supervision",)),
    _p("grid_fire_lane", "消防通道堵塞", "Blocked fire lane", "grid", 3, 1100, "1d", "emergency", "community", ("housing_registry",), ("city_management",)),
    _p("iot_cold_chain", "冷链温度异常", "Cold-chain temperature alarm", "iot", 2, 700, "1d", "market_supervision", "logistics", ("cold_chain_temp", "parcel_flow"), ("commerce",)),
    _p("petition_farm", "农业补贴信访", "Farm-subsidy petition", "petition", 2, 310, "60d", "agriculture", "agriculture", ("subsidy_roll", "farm_output"), ("supply_coop",)),
    _p("quality_outage", "数据接口中断", "Source API outage", "quality", 3, 120, "4h", "data_bureau", "logistics", ("api_heartbeat", "parcel_flow"), ("commerce",)),
    _p("hotline_consumer", "消费投诉", "Consumer complaint", "hotline", 1, 7400, "7d", "market_supervision", "consumption", ("consumer_complaints", "mobile_pay")),
    _p("photo_manhole", "井盖缺失", "Missing manhole cover", "photo", 3, 600, "1d", "housing", "transport", ("road_condition",), ("city_management",)),
    _p("grid_migrants", "流动人口未登记", "Unregistered migrant residents", "grid", 2, 2400, "5d", "public_security", "community", ("resident_registry", "housing_registry"), ("civil_affairs",)),
    _p("iot_air", "空气质量超标", "Air-quality exceedance", "iot", 3, 300, "1d", "ecology", "carbon", ("air_quality",), ("industry_it",)),
    _p("petition_env", "环境污染信访", "Pollution petition", "petition", 3, 260, "60d", "ecology", "carbon", ("air_quality",), ("industry_it",)),
    _p("border_freight", "跨境货物滞留", "Cross-border freight held up", "border", 2, 460, "2d", "port_office", "logistics", ("freight_held", "customs_release"), ("commerce",)),
    _p("quality_late", "数据迟报", "Late data delivery", "quality", 2, 640, "3d", "data_bureau", "agriculture", ("delivery_lag", "farm_price"), ("supply_coop",)),
    _p("hotline_school", "入学咨询与投诉", "School-enrolment complaint", "hotline", 2, 2100, "5d", "education", "education", ("enrolment", "attendance")),
    _p("photo_parking", "违规停车", "Illegal parking", "photo", 1, 7100, "1d", "public_security", "transport", ("parking_events", "checkpoint_flow")),
    _p("iot_power", "用电负荷异常", "Abnormal power load", "iot", 2, 900, "1d", "development_reform", "energy", ("meter_load",)),
    _p("hotline_medical", "医疗服务投诉", "Medical-service complaint", "hotline", 2, 1900, "5d", "health", "health", ("outpatient", "family_doctor")),
    _p("grid_left_behind", "留守老人儿童关爱", "Left-behind elderly and children", "grid", 2, 1600, "10d", "civil_affairs", "health", ("elderly_services", "attendance"), ("education", "health")),
    _p("iot_scenic_crowd", "景区客流超限", "Scenic-spot crowd overload", "iot", 3, 240, "4h", "culture_tourism", "tourism", ("scenic_entry",), ("public_security",)),
    _p("iot_farm_price", "农产品价格异常波动", "Abnormal farm-produce prices", "iot", 2, 380, "2d", "agriculture", "agriculture", ("farm_price", "farm_output"), ("supply_coop", "market_supervision")),
    _p("hotline_tourism", "旅游投诉", "Tourism complaint", "hotline", 2, 1500, "3d", "culture_tourism", "tourism", ("tourist_complaints", "hotel_checkin")),
    _p("hotline_bus", "公交服务投诉", "Bus-service complaint", "hotline", 1, 2600, "5d", "transport", "transport", ("bus_ridership",)),
    _p("iot_pest", "病虫害监测告警", "Crop-pest alarm", "iot", 2, 210, "3d", "agriculture", "agriculture", ("pest_traps", "farm_output")),
    _p("hotline_elderly", "养老服务诉求", "Elderly-care request", "hotline", 2, 1700, "5d", "civil_affairs", "health", ("elderly_services", "family_doctor"), ("health",)),
    _p("hotline_noise", "噪声扰民", "Noise nuisance", "hotline", 1, 6100, "5d", "ecology", "community", ("grid_patrol",), ("public_security", "city_management")),
    _p("hotline_carbon", "碳积分兑换投诉", "Carbon-credit redemption complaint", "hotline", 1, 450, "7d", "ecology", "carbon", ("carbon_credits",)),
)  # fmt: skip


@dataclass(frozen=True)
class ItemSpec:
    code: str
    zh: str
    en: str
    kind: str
    source: str
    classification: int
    refresh: str
    owner: str | None = None  # department code; None = the source system's department


def _i(code: str, zh: str, en: str, source: str, cls: int, refresh: str, **kw: Any) -> ItemSpec:
    return ItemSpec(code, zh, en, kw.pop("kind", "item"), source, cls, refresh, **kw)


ITEMS: tuple[ItemSpec, ...] = (
    _i("hotline_ticket", "12345热线工单", "12345 hotline tickets", "community_governance", 1, "realtime"),
    _i("photo_report", "随手拍上报", "Take-a-photo reports", "community_governance", 0, "realtime"),
    _i("grid_patrol", "网格巡查记录", "Grid patrol log", "community_governance", 1, "daily"),
    _i("petition_case", "信访件", "Petition cases", "community_governance", 1, "daily"),
    _i("resident_registry", "实有人口信息", "Resident population registry", "population_system", 2, "daily"),
    _i("housing_registry", "房屋信息", "Housing register", "property_management", 1, "weekly"),
    _i("property_fees", "物业收费", "Property fees", "property_management", 0, "monthly"),
    _i("ontime_rate", "按期办结率", "On-time closure rate", "community_governance", 0, "daily", kind="indicator", owner="data_bureau"),
    _i("satisfaction", "群众满意度", "Resident satisfaction", "community_governance", 0, "weekly", kind="indicator", owner="data_bureau"),
    _i("checkpoint_flow", "卡口过车", "Checkpoint passages", "traffic_police_gate", 1, "realtime"),
    _i("bus_ridership", "公交客流", "Bus ridership", "traffic_platform", 0, "hourly"),
    _i("road_condition", "道路拥堵指数", "Road congestion index", "traffic_platform", 0, "realtime", kind="indicator"),
    _i("parking_events", "停车记录", "Parking records", "traffic_platform", 0, "realtime"),
    _i("attendance", "学生考勤", "Student attendance", "smart_campus", 1, "daily"),
    _i("enrolment", "招生入学", "School enrolment", "smart_campus", 1, "weekly"),
    _i("mobile_pay", "移动支付流水", "Mobile payment flows", "payment_flows", 2, "daily"),
    _i("consumer_complaints", "消费投诉记录", "Consumer complaints", "consumption_platform", 0, "daily"),
    _i("farm_output", "农产品产量", "Farm output", "smart_agriculture", 0, "weekly"),
    _i("farm_price", "农产品价格", "Farm-gate prices", "coop_reporting", 0, "daily"),
    _i("subsidy_roll", "补贴发放名册", "Subsidy roll", "smart_agriculture", 1, "monthly"),
    _i("pest_traps", "虫情测报", "Pest-trap readings", "smart_agriculture", 0, "daily"),
    _i("border_declarations", "边民互市申报", "Border-trade declarations", "border_trade", 1, "realtime"),
    _i("customs_release", "通关放行记录", "Customs releases", "port_clearance", 2, "realtime"),
    _i("risk_score", "走私风险评分", "Smuggling risk score", "port_clearance", 2, "hourly", kind="indicator"),
    _i("parcel_flow", "物流件量", "Parcel flow", "logistics_platform", 0, "hourly"),
    _i("cold_chain_temp", "冷链温度", "Cold-chain temperature", "logistics_platform", 0, "realtime"),
    _i("freight_held", "滞留货物", "Goods held up", "logistics_platform", 1, "hourly"),
    _i("meter_load", "用电负荷", "Power load", "energy_monitor", 0, "realtime"),
    _i("water_level", "水位监测", "Water level", "energy_monitor", 0, "realtime"),
    _i("outage_log", "停电停水记录", "Outage log", "energy_monitor", 0, "realtime"),
    _i("employment", "用工登记", "Employment records", "park_management", 1, "weekly"),
    _i("wage_payroll", "工资发放", "Payroll", "park_management", 2, "monthly"),
    _i("scenic_entry", "景区入园", "Scenic-spot entries", "smart_tourism", 0, "realtime"),
    _i("hotel_checkin", "酒店入住", "Hotel check-ins", "smart_tourism", 1, "realtime"),
    _i("tourist_complaints", "旅游投诉记录", "Tourism complaints", "smart_tourism", 0, "daily"),
    _i("outpatient", "门诊记录", "Outpatient records", "health_platform", 2, "daily"),
    _i("family_doctor", "家庭医生签约", "Family-doctor contracts", "health_platform", 1, "weekly"),
    _i("elderly_services", "养老服务记录", "Elderly-care services", "elderly_care", 1, "daily"),
    _i("carbon_credits", "碳积分", "Carbon credits", "carbon_platform", 0, "daily"),
    _i("air_quality", "空气质量", "Air quality", "carbon_platform", 0, "hourly", kind="indicator"),
    _i("dup_rate", "跨部门重复率", "Cross-department duplicate rate", "population_system", 0, "daily", kind="indicator", owner="data_bureau"),
    _i("badcode_rate", "编码不一致率", "Inconsistent-code rate", "population_system", 0, "daily", kind="indicator", owner="data_bureau"),
    _i("delivery_lag", "上报延迟", "Delivery lag", "coop_reporting", 0, "hourly", kind="indicator", owner="data_bureau"),
    _i("api_heartbeat", "接口心跳", "API heartbeat", "logistics_platform", 0, "realtime", kind="indicator", owner="data_bureau"),
)  # fmt: skip

# The closed loop as seven steps: (key, zh, en, stage, decision point, usual limit in working hours,
# who leads: "intake" = the channel's department, "owner" = the type's, "data_bureau" = the centre's)
STEPS: tuple[tuple[str, str, str, str, bool, int, str], ...] = (
    ("intake", "发现受理", "Detect and register", "monitoring", False, 2, "intake"),
    ("triage", "分类研判", "Classify and assess", "analysis", True, 4, "owner"),
    ("dispatch", "派单交办", "Dispatch", "response", False, 2, "intake"),
    ("handle", "现场处置", "Handle on site", "response", False, 0, "owner"),  # 0: half the type's limit
    ("check", "办结核查", "Check completion", "evaluation", True, 8, "data_bureau"),
    ("callback", "回访反馈", "Call back and report", "feedback", False, 8, "intake"),
    ("review", "复盘优化", "Review and improve", "optimization", False, 40, "owner"),
)
CITIZEN_CHANNELS = ("hotline", "photo", "grid", "petition")


def problems_for(scale: str) -> tuple[ProblemSpec, ...]:
    return PROBLEMS[: SCALE_PROBLEMS[scale]]


def build(conn: Connection, ctx: BuildContext) -> None:
    rows = plan(ctx.rng, ctx.scale, _people(conn))
    for table in LISTS_TABLES:
        if rows[table.name]:
            conn.execute(insert(table), rows[table.name])


def _people(conn: Connection) -> dict[tuple[int, str], int]:
    """(department id, title) -> person id, for the department-level people (not township staff)."""
    q = select(person.c.id, person.c.department_id, person.c.title_zh).where(person.c.township_code.is_(None))
    return {(int(d), str(t)): int(i) for i, d, t in conn.execute(q.order_by(person.c.id))}


def plan(
    rng: np.random.Generator, scale: str, people: dict[tuple[int, str], int]
) -> dict[str, list[dict[str, Any]]]:
    """Every row of the lists, gaps injected and recorded: a pure function of the random stream."""
    dept = {code: i for i, code, _, _ in ref.DEPARTMENTS}
    mods = ref.module_by_code()
    src = {s.code: (sid, m.id, s.dept_id) for sid, m, s in ref.sources()}
    items: list[dict[str, Any]] = []
    item_id: dict[str, int] = {}
    for n, it in enumerate(ITEMS, start=1):
        sid, mid, sdept = src[it.source]
        item_id[it.code] = n
        items.append(
            dict(
                id=n,
                code=it.code,
                name_zh=it.zh,
                name_en=it.en,
                kind=it.kind,
                module_id=mid,
                source_id=sid,
                owner_dept_id=dept[it.owner] if it.owner else sdept,
                classification=it.classification,
                refresh=it.refresh,
            )
        )
    problems: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    step_data: list[dict[str, Any]] = []
    leads: dict[int, set[int]] = {}  # step id -> leading departments
    supports: dict[int, set[int]] = {}
    step_problem: dict[int, int] = {}
    sid_ = 0
    for pid, p in enumerate(problems_for(scale), start=1):
        owner = dept[p.owner]
        problems.append(
            dict(
                id=pid,
                code=p.code,
                name_zh=p.zh,
                name_en=p.en,
                channel=p.channel,
                severity=p.severity,
                yearly_volume=p.volume,
                limit_hours=p.limit_hours,
                owner_dept_id=owner,
                module_id=mods[p.module].id,
            )
        )
        intake_code, arrival = CHANNELS[p.channel]
        arrival_item = arrival or p.items[0]
        for seq, (key, zh, en, stage, decision, hours, who) in enumerate(STEPS, start=1):
            sid_ += 1
            limit = max(1, p.limit_hours // 2) if hours == 0 else min(hours, p.limit_hours)
            steps.append(
                dict(
                    id=sid_,
                    problem_id=pid,
                    seq=seq,
                    code=f"{p.code}.{key}",
                    name_zh=zh,
                    name_en=en,
                    stage=stage,
                    decision=decision,
                    limit_hours=limit,
                )
            )
            step_problem[sid_] = pid
            lead = {"intake": dept[intake_code], "owner": owner, "data_bureau": dept["data_bureau"]}[who]
            leads[sid_] = {lead}
            sup = {dept[s] for s in p.support} if key in ("handle", "review") else set()
            if key == "triage" and lead != dept["data_bureau"]:
                sup.add(dept["data_bureau"])
            if key in ("intake", "dispatch", "callback") and lead != owner:
                sup.add(owner)
            supports[sid_] = sup - {lead}
            need = {
                "intake": [arrival_item],
                "triage": list(p.items),
                "dispatch": [arrival_item],
                "handle": list(p.items[:2]),
                "check": ["ontime_rate"],
                "callback": ["satisfaction" if p.channel in CITIZEN_CHANNELS else "ontime_rate"],
                "review": ["ontime_rate", p.items[0]],
            }[key]
            for code in dict.fromkeys(need):
                step_data.append(dict(step_id=sid_, item_id=item_id[code]))

    # --- inject the structural gaps on distinct objects -----------------------------------------
    k = SCALE_GAPS[scale]
    seed_gaps: list[dict[str, Any]] = []
    sev: dict[int, int] = {int(r["id"]): int(r["severity"]) for r in problems}
    pids = [int(r["id"]) for r in problems]
    no_process = sorted(int(x) for x in rng.choice([p for p in pids if sev[p] < 3], k, replace=False))
    for pid in no_process:
        seed_gaps.append(dict(kind="no_process", problem_id=pid, step_id=None, item_id=None, dept_id=None))
    step_ids = [int(s["id"]) for s in steps if s["problem_id"] not in no_process]
    high = [s for s in step_ids if sev[step_problem[s]] == 3]
    # the wall's alert must have something to show: one void lands on a high-severity type
    first_void = int(rng.choice(high))
    rest = [s for s in step_ids if s != first_void]
    picked = [int(x) for x in rng.choice(rest, 4 * k - 1, replace=False)]
    void = [first_void, *picked[: k - 1]]
    overlap, no_data, over_limit = (
        picked[k - 1 : 2 * k - 1],
        picked[2 * k - 1 : 3 * k - 1],
        picked[3 * k - 1 :],
    )
    for s in void:
        leads[s] = set()
    for s in overlap:
        # a second department claims the lead: one that supports the step, else another bureau
        others = sorted(supports[s]) or sorted(set(dept.values()) - leads[s])
        extra = int(rng.choice(others))
        leads[s] = leads[s] | {extra}
        supports[s] = supports[s] - {extra}
    limits: dict[int, int] = {int(r["id"]): int(r["limit_hours"]) for r in problems}
    for s in over_limit:
        steps[s - 1]["limit_hours"] = limits[step_problem[s]] + DAY_H * int(rng.integers(1, 6))
    step_data = [
        r for r in step_data if r["step_id"] not in no_data and step_problem[r["step_id"]] not in no_process
    ]
    steps = [s for s in steps if s["problem_id"] not in no_process]
    for kind, chosen in (
        ("void", void),
        ("overlap", overlap),
        ("no_data", no_data),
        ("over_limit", over_limit),
    ):
        for s in chosen:
            seed_gaps.append(
                dict(kind=kind, problem_id=step_problem[s], step_id=s, item_id=None, dept_id=None)
            )
    used = sorted({int(r["item_id"]) for r in step_data})
    no_owner = sorted(int(x) for x in rng.choice(used, k, replace=False))
    for i in no_owner:
        items[i - 1]["owner_dept_id"] = None
        seed_gaps.append(dict(kind="no_owner", problem_id=None, step_id=None, item_id=i, dept_id=None))

    # --- responsibility: one duty per department and problem type it takes part in ---------------
    live = {int(s["id"]) for s in steps}
    duties: list[dict[str, Any]] = []
    duty_of: dict[tuple[int, int], int] = {}
    step_duty = []
    dept_code = {i: code for i, code, _, _ in ref.DEPARTMENTS}
    by_id = {int(r["id"]): r for r in problems}
    for s in sorted(live):
        pid = step_problem[s]
        for d, role in [
            *((d, "lead") for d in sorted(leads[s])),
            *((d, "support") for d in sorted(supports[s])),
        ]:
            if (d, pid) not in duty_of:
                duty_of[(d, pid)] = len(duties) + 1
                prow = by_id[pid]
                duties.append(
                    dict(
                        id=len(duties) + 1,
                        code=f"{dept_code[d]}.{prow['code']}",
                        dept_id=d,
                        person_id=people.get((d, "分管副局长")) or people[(d, "局长")],
                        name_zh=f"{prow['name_zh']}: 按流程牵头或配合办理",
                        name_en=f"{prow['name_en']}: lead or support its steps",
                    )
                )
            step_duty.append(dict(step_id=s, duty_id=duty_of[(d, pid)], role=role))

    # --- data permissions: every department that needs a sensitive or core item is granted it, ----
    # --- then a few grants are withheld (permission mismatches) ------------------------------------
    cls = {it["id"]: it["classification"] for it in items}
    owner_of = {it["id"]: it["owner_dept_id"] for it in items}
    need_pairs = sorted(
        {
            (r["item_id"], d)
            for r in step_data
            for d in leads[r["step_id"]] | supports[r["step_id"]]
            if cls[r["item_id"]] > 0 and owner_of[r["item_id"]] is not None and d != owner_of[r["item_id"]]
        }
    )
    withheld_idx = rng.choice(len(need_pairs), k, replace=False)
    withheld = {need_pairs[int(i)] for i in withheld_idx}
    grants = [dict(item_id=i, dept_id=d) for i, d in need_pairs if (i, d) not in withheld]
    for i, d in sorted(withheld):
        seed_gaps.append(dict(kind="permission", problem_id=None, step_id=None, item_id=i, dept_id=d))

    return {
        lists_problem.name: problems,
        lists_step.name: steps,
        lists_data_item.name: items,
        lists_step_data.name: step_data,
        lists_duty.name: duties,
        lists_step_duty.name: step_duty,
        lists_data_grant.name: grants,
        lists_seed_gap.name: seed_gaps,
    }


PART = Part("lists", LISTS_TABLES, build)
