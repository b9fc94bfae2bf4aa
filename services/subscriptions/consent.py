"""Consent wording (versioned, never edited once published) and the event log."""

from dataclasses import dataclass

from sqlalchemy import insert

from models import ConsentAction, ConsentEvent
from services.core.transactions import Executor
from services.core.validation import ip_address_or_none

# The exact text each form shows next to its button, in each language it is shown in. A
# published version is never changed: add a new version instead (tests pin the published
# ones). Not in the gettext catalogues, so that a translator's edit cannot change what a
# consent record already says.
WORDINGS: dict[str, str] = {
    "subscribe-v1": (
        "We will email you to confirm your address. You will only receive the "
        "newsletter after you confirm, and every mail has a one-click unsubscribe link."
    ),
    "enroll-v1": (
        "We will email you to confirm your address; your place is requested only once you "
        "confirm. We use these details to run the course and write to you about it."
    ),
    "enroll-newsletter-v1": (
        "Also send me the newsletter. We will email you separately to confirm."
    ),
    # The same versions as each shipped language shows them: `<version>/<language>`.
    "subscribe-v1/fr": (
        "Nous vous enverrons un e-mail pour confirmer votre adresse. Vous ne recevrez la newsletter "
        "qu'après confirmation, et chaque envoi comporte un lien de désinscription en un clic."
    ),
    "enroll-v1/fr": (
        "Nous vous enverrons un e-mail pour confirmer votre adresse ; votre demande de place n'est prise "
        "en compte qu'après confirmation. Nous utilisons ces informations pour organiser la formation et "
        "vous écrire à son sujet."
    ),
    "enroll-newsletter-v1/fr": (
        "Envoyez-moi aussi la newsletter. Nous vous écrirons séparément pour la confirmer."
    ),
    "subscribe-v1/es": (
        "Te enviaremos un correo para confirmar tu dirección. Solo recibirás el boletín después de "
        "confirmarla, y cada correo incluye un enlace para darte de baja con un solo clic."
    ),
    "enroll-v1/es": (
        "Te enviaremos un correo para confirmar tu dirección; tu plaza solo se solicita cuando confirmes. "
        "Usamos estos datos para organizar el curso y escribirte sobre él."
    ),
    "enroll-newsletter-v1/es": (
        "Envíame también el boletín. Te escribiremos aparte para que lo confirmes."
    ),
    "subscribe-v1/hi": (
        "आपका पता पक्का करने के लिए हम आपको एक ईमेल भेजेंगे। पुष्टि करने के बाद ही आपको न्यूज़लेटर "
        "मिलेगा, और हर ईमेल में एक क्लिक में सदस्यता छोड़ने का लिंक होता है।"
    ),
    "enroll-v1/hi": (
        "आपका पता पक्का करने के लिए हम आपको एक ईमेल भेजेंगे; पुष्टि करने के बाद ही आपकी सीट का अनुरोध "
        "दर्ज होगा। हम ये जानकारियाँ पाठ्यक्रम चलाने और उसके बारे में आपसे संपर्क करने के लिए इस्तेमाल करते हैं।"
    ),
    "enroll-newsletter-v1/hi": (
        "मुझे न्यूज़लेटर भी भेजें। इसकी पुष्टि के लिए हम आपको अलग से ईमेल भेजेंगे।"
    ),
    "subscribe-v1/ar": (
        "سنرسل إليك رسالة بالبريد الإلكتروني لتأكيد عنوانك. لن تصلك النشرة إلا بعد التأكيد، "
        "وتتضمن كل رسالة رابطًا لإلغاء الاشتراك بنقرة واحدة."
    ),
    "enroll-v1/ar": (
        "سنرسل إليك رسالة بالبريد الإلكتروني لتأكيد عنوانك، ولن يُسجَّل طلب مقعدك إلا بعد التأكيد. "
        "نستخدم هذه البيانات لتنظيم الدورة ومراسلتك بشأنها."
    ),
    "enroll-newsletter-v1/ar": (
        "أرسلوا إليّ النشرة البريدية أيضًا. سنراسلك بشكل منفصل لتأكيد الاشتراك."
    ),
}
CURRENT_SUBSCRIBE_WORDING = "subscribe-v1"
CURRENT_ENROLL_WORDING = "enroll-v1"
CURRENT_ENROLL_NEWSLETTER_WORDING = "enroll-newsletter-v1"


def shown_wording(version: str, language: str) -> tuple[str, str]:
    """The wording a form shows in `language` (English where there is no translation): its
    version, which is what the consent record keeps, and its exact text."""
    translated = f"{version}/{language}"
    if translated in WORDINGS:
        return translated, WORDINGS[translated]
    return version, WORDINGS[version]


# The `form` of changes staff make in the console.
STAFF_FORM = "admin"


# Built once: its cache key is then computed once, not on every sign-up.
_INSERT_EVENT = insert(ConsentEvent.__table__)


@dataclass(frozen=True)
class ConsentOrigin:
    """Where and how a reader acted: recorded with every consent event."""

    form: str
    ip: str | None = None
    user_agent: str | None = None
    source_url: str | None = None
    referrer: str | None = None
    wording_version: str | None = None
    utm: dict[str, str] | None = None  # campaign parameters that brought the reader


def record(
    session: Executor,
    action: ConsentAction,
    origin: ConsentOrigin,
    *,
    subscriber_id: int | None,
    list_id: int | None = None,
    enrollment_id: int | None = None,
) -> None:
    # A Core insert: the log is append-only, so no ORM object is needed.
    session.execute(_INSERT_EVENT, dict(
        subscriber_id=subscriber_id,
        list_id=list_id,
        enrollment_id=enrollment_id,
        action=action,
        form=origin.form,
        wording_version=origin.wording_version,
        ip=ip_address_or_none(origin.ip),
        user_agent=(origin.user_agent or "")[:500] or None,
        source_url=(origin.source_url or "")[:2000] or None,
    ))
