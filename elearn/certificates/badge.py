"""Open Badges 3.0: the certificate as an OpenBadgeCredential, so it can travel to other systems.

The credential is not signed: verification happens at the verification URL it names as its id.
"""

from datetime import timedelta

from ..i18n import day_start
from .models import Certificate
from .pdf import issued_iso

BADGE_PREFIX = "Digitalisierungsführerschein"  # unless the title says so already

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


def credential(certificate: Certificate, *, city: str, verify_url: str, base_url: str,
               achievement_url: str, description: str) -> dict:
    result = {
        "@context": CONTEXT,
        "id": verify_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": certificate.title if certificate.title.startswith(BADGE_PREFIX)
        else f"{BADGE_PREFIX}: {certificate.title}",
        "issuer": {"id": base_url, "type": ["Profile"], "name": city},
        "validFrom": issued_iso(certificate.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject", "identityType": "name", "hashed": False,
                "identityHash": certificate.holder_name,
            }],
            "achievement": {
                "id": achievement_url,
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": certificate.title,
                "description": description,
                "criteria": {"narrative": (
                    # Issued by hand (a course attended in person): as the PDF says it.
                    "Von der Verwaltung als absolviert bestätigt." if certificate.source == "manual"
                    else "Alle Pflichtschritte des Lernpfads abgeschlossen." if certificate.track_id
                    else "Alle Module des Kurses mit bestandenem Quiz abgeschlossen.")},
                "version": certificate.version_label,
                "inLanguage": "de",
            },
        },
    }
    if certificate.valid_until:
        # The last second of the end day in Berlin, when the check page says "abgelaufen" (at
        # 23:59:59 UTC a wallet showed the next day, and the badge held two hours longer).
        end = day_start(certificate.valid_until + timedelta(days=1)) - timedelta(seconds=1)
        result["validUntil"] = issued_iso(end)
    return result
