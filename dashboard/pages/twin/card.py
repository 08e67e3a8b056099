"""The twin page's panels: a building's record card (masked by role), the coverage table, the evacuation
summary and the KPI row. Pure functions of query results."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import html

from dashboard.components import KpiDef, kpi_card
from dashboard.i18n import bi_text, both, pick
from queries import meta, twin, twin_view
from queries.scope import Viewer

SRC = "queries.twin"
EXACT_ROLES = ("leader", "admin")  # who sees exact household and resident counts of a single building


def masked(n: int, role: str) -> str:
    """A building's head count as the role may see it: exact for leaders and admins, else banded to tens
    and "<5" for the smallest, so no single household can be picked out."""
    if role in EXACT_ROLES:
        return f"{n:,}"
    if n < 5:
        return "<5"
    lo = n // 10 * 10
    return f"{max(lo, 5)}-{lo + 9}"


def clicked_building(click: object) -> int | None:
    """The building id a click on the scene carries (a building's vertex customdata), or None."""
    if not isinstance(click, dict):
        return None
    points = click.get("points")
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    value = points[0].get("customdata")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def hint(lang: str) -> html.Div:
    return html.Div(
        [
            bi_text("楼栋档案", "Building record", lang, "card-title"),
            html.P(
                both(
                    "点击任一楼栋查看其档案与住户概况",
                    "Click a building to see its record and residents",
                    lang,
                    " / ",
                )
            ),
        ]
    )


def building_card(v: Viewer, lang: str, *, community: int, building_id: int) -> html.Div:
    st = meta.pool_status()
    r = twin_view.building_record(
        scope=v.scope(), community_code=community, as_of=st.as_of, building_id=building_id
    )
    if r is None:
        return html.Div(
            [
                bi_text("楼栋档案", "Building record", lang, "card-title"),
                html.P(
                    both(
                        f"楼栋 {building_id} 不在本社区或不在您的范围内",
                        f"Building {building_id} is not in this community or not in your scope",
                        lang,
                        " / ",
                    ),
                    className="alert alert-amber",
                ),
            ],
            id="twin-card-missing",
        )
    szh, sen = twin.STRUCTURES[r["structure"]]
    czh, cen = twin.CONDITIONS[r["condition"]]
    w = twin.RENO_WEIGHTS

    def line(zh: str, en: str, value: str) -> html.Tr:
        return html.Tr([html.Th(both(zh, en, lang, " ")), html.Td(value)])

    facts = [
        line("楼层", "Floors", f"{r['floors']} · {r['height_m']:.1f} m"),
        line("建成年份", "Year built", str(r["year_built"])),
        line("结构", "Structure", both(szh, sen, lang, " ")),
        line("房屋状况", "Condition", f"{r['condition']} {both(czh, cen, lang, ' ')}"),
        line("建筑面积", "Floor area", f"{r['floor_area_m2']:,.0f} m²"),
        line("户数", "Households", masked(int(r["households"]), v.role)),
        line("居住人口", "Residents", masked(int(r["residents"]), v.role)),
        line("65岁以上", "Aged 65+", masked(int(r["residents_65"]), v.role)),
        line("近30日事件/告警", "Cases/alarms, 30 d", str(r["open_cases"])),
    ]
    reno = [
        line("改造需求", "Renovation need", f"{r['reno_score']:.0f} / 100"),
        line("楼龄分", "Age input", f"{r['reno_age']:.0f} × {w['age']}"),
        line("状况分", "Condition input", f"{r['reno_condition']:.0f} × {w['condition']}"),
        line("结构分", "Structure input", f"{r['reno_structure']:.0f} × {w['structure']}"),
        line("老龄分", "Elderly input", f"{r['reno_elderly']:.0f} × {w['elderly']}"),
    ]
    walks = [
        line(
            *twin.FACILITY_KINDS[kind][:2],
            "—"
            if m is None
            else f"{m / twin.WALK_M_PER_MIN:.1f} {pick('分钟', 'min', lang)}" + ("" if ok else " ⚠"),
        )
        for kind, m, ok in r["walks"]
    ]
    return html.Div(
        [
            bi_text(f"楼栋 {building_id} 档案", f"Building {building_id} record", lang, "card-title"),
            html.Table(facts + reno, className="twin-facts"),
            bi_text(
                "步行到最近设施 (⚠ 超出步行圈)",
                "Walk to the nearest facility (⚠ beyond its reach)",
                lang,
                "twin-sub",
            ),
            html.Table(walks, className="twin-facts"),
        ],
        id="twin-card-record",
    )


def coverage_table(cov: pl.DataFrame, lang: str) -> list[Any]:
    head = html.Tr(
        [
            html.Th(pick("设施", "Facility", lang)),
            html.Th(pick("步行圈", "Reach", lang)),
            html.Th(pick("楼栋(圈外)", "Buildings outside", lang)),
            html.Th(pick("居民(圈外)", "Residents outside", lang)),
            html.Th(pick("65岁以上(圈外)", "Aged 65+ outside", lang)),
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(pick(*twin.FACILITY_KINDS[r["kind"]][:2], lang)),
                html.Td(f"{r['reach_min']:g} {pick('分钟', 'min', lang)} / {r['reach_m']:.0f} m"),
                html.Td(f"{r['buildings_outside']}/{r['buildings']}"),
                html.Td(f"{r['residents_outside']:,}"),
                html.Td(f"{r['residents_65_outside']:,}"),
            ],
            className="twin-bad" if r["residents_outside"] else "",
        )
        for r in cov.iter_rows(named=True)
    ]
    return [
        bi_text(
            "15分钟生活圈: 步行可达范围外的居民",
            "15-minute living circle: residents outside walking reach",
            lang,
            "card-title",
        ),
        html.P(
            both(
                f"沿道路网步行, 按 {twin.WALK_M_PER_MIN:.0f} 米/分钟 (老年人步速) 计",
                f"walked along the road network at {twin.WALK_M_PER_MIN:.0f} m/min (an elderly pace)",
                lang,
                " / ",
            ),
            className="twin-sub",
        ),
        html.Table([head, *rows], className="twin-table", id="twin-coverage-table"),
    ]


def evacuation_summary(
    ev: twin.Evacuation, label: tuple[str, str], hit: dict[str, int] | None, lang: str
) -> list[Any]:
    """The evacuation under a hazard: roads closed, who is cut off, walking times, each shelter's load,
    and with an area what it touches (buildings, residents, residents 65+)."""
    out: list[Any] = [bi_text(f"应急疏散: {label[0]}", f"Evacuation: {label[1]}", lang, "card-title")]
    if ev.no_open_shelter:
        out.append(
            html.P(
                both(
                    "没有开放的避难场所: 所有居民都无法步行撤离",
                    "No shelter is open: nobody can walk out",
                    lang,
                    " / ",
                ),
                className="alert alert-red",
                id="twin-no-shelter",
            )
        )
    mins = twin_view.evacuation_minutes(ev)
    out.append(
        html.Table(
            [
                *(
                    [
                        html.Tr(
                            [
                                html.Th(
                                    pick(
                                        "区域内楼栋/居民/65岁以上",
                                        "In the area: buildings / residents / 65+",
                                        lang,
                                    )
                                ),
                                html.Td(
                                    f"{hit['buildings']} / {hit['residents']:,} / {hit['residents_65']:,}"
                                ),
                            ],
                            className="twin-bad" if hit["buildings"] else "",
                            id="twin-hazard-impact",
                        )
                    ]
                    if hit is not None
                    else []
                ),
                html.Tr(
                    [html.Th(pick("封闭路段", "Roads closed", lang)), html.Td(str(len(ev.closed_edges)))]
                ),
                html.Tr(
                    [
                        html.Th(pick("无法撤离楼栋/居民", "Buildings / residents cut off", lang)),
                        html.Td(f"{ev.stranded} / {ev.stranded_residents:,}"),
                    ],
                    className="twin-bad" if ev.stranded else "",
                ),
                html.Tr(
                    [
                        html.Th(pick("步行时间 中位/最长", "Walk median / longest", lang)),
                        html.Td(
                            f"{mins[0]:.1f} / {mins[1]:.1f} {pick('分钟', 'min', lang)}" if mins else "—"
                        ),
                    ]
                ),
            ],
            className="twin-facts",
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(r["name_zh"]),
                html.Td(pick("开放", "open", lang) if r["open"] else pick("关闭", "closed", lang)),
                html.Td(f"{r['assigned']:,} / {r['capacity']:,}"),
                html.Td(pick("超容", "over", lang) if r["over"] else ""),
            ],
            className="twin-bad" if r["over"] or not r["open"] else "",
        )
        for r in ev.shelters.iter_rows(named=True)
    ]
    head = html.Tr(
        [
            html.Th(pick("避难场所", "Shelter", lang)),
            html.Th(pick("状态", "State", lang)),
            html.Th(pick("分配人数/容量", "Assigned / capacity", lang)),
            html.Th(""),
        ]
    )
    out.append(html.Table([head, *rows], className="twin-table", id="twin-shelter-table"))
    return out


DEFS = {
    "buildings": KpiDef(
        ("社区内楼栋数", "Buildings in the community"),
        ("楼栋", "buildings"),
        ("—", "—"),
        ("当前", "current"),
        f"{SRC}.buildings",
    ),
    "residents": KpiDef(
        ("各楼栋居住人口之和", "sum of residents over buildings"),
        ("居住人口", "residents"),
        ("—", "—"),
        ("当前", "current"),
        f"{SRC}.buildings",
    ),
    "elderly": KpiDef(
        ("65岁以上人口 / 居住人口", "residents aged 65+ / residents"),
        ("65岁以上人口", "residents aged 65+"),
        ("居住人口", "residents"),
        ("当前", "current"),
        f"{SRC}.buildings",
    ),
    "reno": KpiDef(
        ("改造需求 ≥ 60 分的楼栋数", "buildings with renovation need >= 60"),
        ("需求 ≥ 60 的楼栋", "buildings scoring >= 60"),
        ("—", "—"),
        ("当前", "current"),
        f"{SRC}.buildings (reno_score)",
    ),
    "outside": KpiDef(
        (
            "养老服务站5分钟步行圈外的65岁以上居民",
            "residents aged 65+ beyond a 5-minute walk of an elderly-care station",
        ),
        ("圈外65岁以上居民", "aged 65+ outside"),
        ("65岁以上居民", "residents aged 65+"),
        ("当前", "current"),
        f"{SRC}.coverage",
    ),
}


def kpis(n: dict[str, int], lang: str) -> list[Any]:
    res, old, need, outside = n["residents"], n["residents_65"], n["need_60"], n["care_65_outside"]
    return [
        kpi_card("twin-kpi-buildings", ("楼栋", "Buildings"), f"{n['buildings']:,}", DEFS["buildings"], lang),
        kpi_card("twin-kpi-residents", ("居住人口", "Residents"), f"{res:,}", DEFS["residents"], lang),
        kpi_card(
            "twin-kpi-elderly",
            ("65岁以上占比", "Aged 65+"),
            f"{old / max(res, 1):.1%}",
            DEFS["elderly"],
            lang,
        ),
        kpi_card(
            "twin-kpi-reno",
            ("急需改造楼栋", "Buildings needing renovation"),
            f"{need:,}",
            DEFS["reno"],
            lang,
            tone="warn" if need else "",
        ),
        kpi_card(
            "twin-kpi-outside",
            ("养老服务圈外老人", "Elderly beyond care reach"),
            f"{outside:,}",
            DEFS["outside"],
            lang,
            sub=f"/ {old:,}",
            tone="bad" if outside else "good",
        ),
    ]


METRICS = {
    "floor_area_m2": ("建筑面积", "Floor area", "m²"),
    "residents": ("居住人口", "Residents", "人 people"),
    "residents_affected": ("受影响居民", "Residents affected", "人 people"),
    "reno_need_total": ("改造需求合计", "Renovation need, total", "分 points"),
    "buildings_need_60": ("需求≥60楼栋", "Buildings with need >= 60", "栋 buildings"),
    "evac_minutes_median": ("疏散步行中位数", "Evacuation walk, median", "分钟 min"),
    "evac_minutes_max": ("疏散步行最长", "Evacuation walk, longest", "分钟 min"),
    "evac_stranded_residents": ("无法撤离居民", "Residents cut off", "人 people"),
}


def comparison_table(cmp: pl.DataFrame, lang: str) -> html.Table:
    """Before and after side by side; coverage rows read "outside <facility>" in residents."""
    rows = []
    for metric, before, after, change in cmp.iter_rows():
        if metric.startswith("outside:"):
            zh, en, _ = twin.FACILITY_KINDS[metric.split(":", 1)[1]]
            label, unit = both(f"{zh}圈外居民", f"outside {en.lower()} reach", lang, " "), "人 people"
        else:
            mzh, men, unit = METRICS[metric]
            label = both(mzh, men, lang, " ")
        rows.append(
            html.Tr(
                [
                    html.Td(label),
                    html.Td(f"{before:,.1f}"),
                    html.Td(f"{after:,.1f}"),
                    html.Td(f"{change:+,.1f}"),
                    html.Td(unit, className="twin-sub"),
                ]
            )
        )
    head = html.Tr(
        [
            html.Th(pick(*h, lang))
            for h in (
                ("指标", "Measure"),
                ("改造前", "Before"),
                ("改造后", "After"),
                ("变化", "Change"),
                ("单位", "Unit"),
            )
        ]
    )
    return html.Table([head, *rows], className="twin-table", id="twin-compare-table")


def parse_ids(text: object) -> tuple[int, ...]:
    """Building ids typed as "12, 15 18"; anything that is not a whole number is refused by name."""
    if not isinstance(text, str) or not text.strip():
        return ()
    out = []
    for part in text.replace("，", ",").replace(",", " ").split():
        if not part.isdigit():
            raise twin.ScenarioError(
                f"楼栋编号 {part[:20]!r} 不是整数", f"Building id {part[:20]!r} is not a whole number"
            )
        out.append(int(part))
    return tuple(out)
