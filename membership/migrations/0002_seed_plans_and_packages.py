"""The seeds' plans (free 3/day; monthly ¥19.9, 30 days, 50/day; yearly ¥199, 365 days, 50/day) and point packages.

They exist in every installation from the first migration on and stay editable in the admin. Package ids are
fixed so that clients and the demo can name them.
"""

import uuid

from django.db import migrations

PLANS = [
    {"type": "free", "name": "免费用户", "price_fen": 0, "duration_days": 0, "daily_limit": 3, "rank": 0,
     "features": ["每日3首音乐生成"]},
    {"type": "monthly", "name": "月卡会员", "price_fen": 1990, "duration_days": 30, "daily_limit": 50, "rank": 10,
     "features": ["每日50首音乐生成", "优先处理队列", "高清音质下载"]},
    {"type": "yearly", "name": "年卡会员", "price_fen": 19900, "duration_days": 365, "daily_limit": 50, "rank": 20,
     "features": ["每日50首音乐生成", "优先处理队列", "高清音质下载", "专属客服支持", "相当于8.3折"]},
]

PACKAGES = [
    {"id": uuid.UUID("7d0a3c1e-0b6f-4d51-9a51-000000000060"), "name": "60积分", "points": 60, "price_fen": 600,
     "sort_order": 1},
    {"id": uuid.UUID("7d0a3c1e-0b6f-4d51-9a51-000000000300"), "name": "300积分", "points": 300, "price_fen": 2800,
     "sort_order": 2},
    {"id": uuid.UUID("7d0a3c1e-0b6f-4d51-9a51-000000001000"), "name": "1000积分", "points": 1000, "price_fen": 8800,
     "sort_order": 3},
]


def seed(apps, schema_editor):
    Plan = apps.get_model("membership", "Plan")
    PointPackage = apps.get_model("membership", "PointPackage")
    for plan in PLANS:
        Plan.objects.update_or_create(type=plan["type"], defaults=plan)
    for package in PACKAGES:
        PointPackage.objects.update_or_create(id=package["id"], defaults=package)


class Migration(migrations.Migration):
    dependencies = [("membership", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
