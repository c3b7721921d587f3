# Dates as Chinese offices write them: 7月3日, not Django's default 07月3日.
MONTH_DAY_FORMAT = "n月j日"
# Large counts grouped by thousands with commas, as statistical reports print them (约 114,000), where a
# template asks for grouping (floatformat "g"); Django's zh_Hans has no separator.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
