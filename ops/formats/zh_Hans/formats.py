# Dates as Chinese offices write them: 7月3日, not Django's default 07月3日.
MONTH_DAY_FORMAT = "n月j日"
