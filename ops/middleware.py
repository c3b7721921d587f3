"""Chinese first: the language is the one the user chose (cookie), else LANGUAGE_CODE.

Django's LocaleMiddleware would also follow the browser's Accept-Language, so a police workstation
with an English system would get English pages; here English is only ever an explicit choice.
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChosenLanguageMiddleware(LocaleMiddleware):
    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
