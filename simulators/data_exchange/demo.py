"""The records the simulator starts with: ten people (valid GB 11643 ID numbers,
invented) in varied situations, mostly in Nanjing (city code 320100).

| name | ID number | civil affairs | homes owned (housing) |
| --- | --- | --- | --- |
| 张三 (the demo citizen) | 320102199005150117 | single | no record (owns none anywhere) |
| 李明 | 320104198503120314 | married to 王芳 | Nanjing 1 |
| 王芳 | 320106198708210420 | married to 李明 | Nanjing 0, Suzhou (320500) 1 |
| 赵磊 | 32010519790102053X | divorced | Nanjing 2 |
| 陈静 | 320113196209300645 | widowed | Nanjing 0, Wuxi (320200) 1 |
| 刘洋 | 321002199506180758 | single (household in Yangzhou) | Nanjing 1 |
| 孙丽 | 320111199111110860 | married to 周强 | Nanjing 1 |
| 周强 | 320115198907040977 | married to 孙丽 | Nanjing 1 |
| 吴昊 | 320102199302280196 | no record | no record |
| 郑小雨 (born 2010) | 320104201006010282 | single | no record |

So for a Nanjing item: 李明's household owns 1 home, 孙丽's and 周强's 2, 赵磊
2, 张三 and 郑小雨 none; 吴昊 is unknown to civil affairs. The demo citizen
张三 (13900000001) can verify their real name with 320102199005150117.
"""

from __future__ import annotations

from .records import Person, check_person

NANJING = "320100"
WUXI = "320200"
SUZHOU = "320500"

DEMO_RECORDS: tuple[dict, ...] = (
    # 张三: single, owns no home anywhere (the housing register has no record).
    {"id_number": "320102199005150117", "civil_affairs": {"marital_status": "single"}},
    # 李明 and 王芳: married; their household owns one home in Nanjing.
    {
        "id_number": "320104198503120314",
        "civil_affairs": {"marital_status": "married", "spouse_id_number": "320106198708210420"},
        "housing": {"homes_owned": {NANJING: 1}},
    },
    {
        "id_number": "320106198708210420",
        "civil_affairs": {"marital_status": "married", "spouse_id_number": "320104198503120314"},
        "housing": {"homes_owned": {NANJING: 0, SUZHOU: 1}},
    },
    # 赵磊: divorced, two homes in Nanjing.
    {
        "id_number": "32010519790102053X",
        "civil_affairs": {"marital_status": "divorced"},
        "housing": {"homes_owned": {NANJING: 2}},
    },
    # 陈静: widowed, a home in Wuxi and none in Nanjing.
    {
        "id_number": "320113196209300645",
        "civil_affairs": {"marital_status": "widowed"},
        "housing": {"homes_owned": {NANJING: 0, WUXI: 1}},
    },
    # 刘洋: single, household registered in Yangzhou, one home in Nanjing.
    {
        "id_number": "321002199506180758",
        "civil_affairs": {"marital_status": "single"},
        "housing": {"homes_owned": {NANJING: 1}},
    },
    # 孙丽 and 周强: married, one home each in Nanjing (two for the household).
    {
        "id_number": "320111199111110860",
        "civil_affairs": {"marital_status": "married", "spouse_id_number": "320115198907040977"},
        "housing": {"homes_owned": {NANJING: 1}},
    },
    {
        "id_number": "320115198907040977",
        "civil_affairs": {"marital_status": "married", "spouse_id_number": "320111199111110860"},
        "housing": {"homes_owned": {NANJING: 1}},
    },
    # 吴昊 (320102199302280196) is on neither register: every query answers no record.
    # 郑小雨: born in 2010, single, no home.
    {"id_number": "320104201006010282", "civil_affairs": {"marital_status": "single"}},
)


def demo_people() -> list[Person]:
    """The demo records, checked like the admin endpoint checks a record."""
    people = []
    for record in DEMO_RECORDS:
        person, problems = check_person(record)
        if person is None:
            raise ValueError(f"bad demo record: {problems}")
        people.append(person)
    return people
