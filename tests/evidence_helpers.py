"""Small Fingertips-layout files for the evidence tests."""

from __future__ import annotations

HEADER = ("Indicator ID,Indicator Name,Area Code,Area Name,Area Type,Sex,Age,Category Type,Category,Time period,"
          "Value,Lower CI 95.0 limit,Upper CI 95.0 limit,Count,Denominator")


def figure(indicator: str, area: str, period: str, value: float, count: int | str = "", denominator: int | str = "",
           sex: str = "Persons") -> str:
    return f"{indicator},Test indicator,{area},Area {area},ICB,{sex},18+ yrs,,,{period},{value},,,{count},{denominator}"


def peer_file(area: str, peers: list[str]) -> str:
    return "area_code,peer_code\n" + "".join(f"{area},{p}\n" for p in peers)


def data_file(indicator: str = "90001", period: str = "2024") -> str:
    """The area A at 60% of 2,000; ten peers at 50..80% of 1,000 each; England at 66%."""
    values = [50.0, 53.33, 56.67, 60.0, 63.33, 66.67, 70.0, 73.33, 76.67, 80.0]
    lines = [HEADER, figure(indicator, "A", period, 60.0, 1200, 2000),
             figure(indicator, "E92000001", period, 66.0, 66000, 100000)]
    lines += [figure(indicator, f"P{i:02}", period, v, round(v * 10), 1000) for i, v in enumerate(values)]
    return "\n".join(lines) + "\n"
