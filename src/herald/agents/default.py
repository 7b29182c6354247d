"""The built-in "Herald default" agent: a rules agent for appointment-style campaigns.

It works offline and in English, Spanish, French, German and Portuguese. Its
intents, in order (the first match wins, so the more specific come first):

1. ``opt_out``: phrases such as "remove me", "stop texting me" (bare STOP
   keywords are caught before any agent runs, see herald.domain.optout).
2. ``reschedule``: "can't make it", "another day"... marks the outcome
   ``reschedule`` and hands off so a person can offer a new time.
3. ``decline``: "not interested", "no thanks"... outcome ``not_interested``.
4. ``question``: any question mark: a person answers questions.
5. ``confirm``: "yes", "confirmed", "see you", 👍... outcome ``confirmed``.
6. ``greeting``: "hi", "hola"... a friendly prompt to confirm.

Anything else falls back to a hand-off with a holding reply.
"""

from __future__ import annotations

from typing import Any

DEFAULT_AGENT_NAME = "Herald default"
DEFAULT_AGENT_DESCRIPTION = (
    "Built-in offline agent: confirms, detects reschedule requests and opt-outs, "
    "hands questions and anything unclear to a person. English, Spanish, French, "
    "German, Portuguese."
)

_HOLDING = {
    "en": "Thanks for your message. A member of our team will get back to you shortly.",
    "es": "Gracias por tu mensaje. Una persona de nuestro equipo te responderá en breve.",
    "fr": "Merci pour votre message. Un membre de notre équipe vous répondra rapidement.",
    "de": "Danke für Ihre Nachricht. Jemand aus unserem Team meldet sich in Kürze.",
    "pt": "Obrigado pela sua mensagem. Alguém da nossa equipe responderá em breve.",
}

DEFAULT_AGENT_CONFIG: dict[str, Any] = {
    "default_language": "en",
    "intents": [
        {
            "name": "opt_out",
            "keywords": {
                "en": ["unsubscribe me", "remove me", "opt me out", "stop texting",
                       "stop messaging", "stop calling", "stop contacting", "do not contact",
                       "dont contact", "dont text", "dont message"],
                "es": ["darme de baja", "no me escriban", "no me escribas", "no me contacten",
                       "quitarme de la lista", "no quiero recibir"],
                "fr": ["ne plus recevoir", "desabonnez moi", "desinscrivez moi", "retirez moi"],
                "de": ["keine nachrichten mehr", "melden sie mich ab", "nicht mehr kontaktieren"],
                "pt": ["nao quero receber", "me tire da lista", "me descadastre",
                       "parem de enviar"],
            },
            "reply": {
                "en": "You will not receive further messages from us.",
                "es": "No recibirás más mensajes nuestros.",
                "fr": "Vous ne recevrez plus de messages de notre part.",
                "de": "Sie erhalten keine weiteren Nachrichten von uns.",
                "pt": "Você não receberá mais mensagens nossas.",
            },
            "actions": {"tags": ["opt-out"], "opt_out": True},
        },
        {
            "name": "reschedule",
            "keywords": {
                "en": ["reschedule", "postpone", "another day", "another time", "different day",
                       "different time", "change the date", "change the time", "cant make it",
                       "cannot make it", "cant come", "cannot come", "wont be able"],
                "es": ["reprogramar", "cambiar la cita", "otro dia", "otra hora", "no puedo ir",
                       "no podre", "aplazar", "cambiar la fecha"],
                "fr": ["reporter", "autre jour", "autre heure", "je ne peux pas", "changer la date",
                       "decaler"],
                "de": ["verschieben", "anderer termin", "anderen termin", "kann nicht",
                       "anderes datum"],
                "pt": ["remarcar", "reagendar", "outro dia", "outro horario", "nao posso ir",
                       "mudar a data"],
            },
            "reply": {
                "en": "No problem. A member of our team will contact you to find a new time.",
                "es": "Sin problema. Alguien de nuestro equipo te contactará para buscar "
                "otra hora.",
                "fr": "Pas de souci. Un membre de notre équipe vous contactera pour un "
                "autre créneau.",
                "de": "Kein Problem. Jemand aus unserem Team meldet sich für einen neuen Termin.",
                "pt": "Sem problema. Alguém da nossa equipe entrará em contato para um "
                "novo horário.",
            },
            "actions": {"tags": ["reschedule"], "outcome": "reschedule", "hand_off": True},
        },
        {
            "name": "decline",
            "keywords": {
                "en": ["not interested", "no thanks", "no thank you"],
                "es": ["no me interesa", "no gracias"],
                "fr": ["pas interesse", "pas interessee", "non merci"],
                "de": ["kein interesse", "nein danke"],
                "pt": ["nao tenho interesse", "nao obrigado", "nao obrigada"],
            },
            "reply": {
                "en": "Understood, thank you for letting us know.",
                "es": "Entendido, gracias por avisarnos.",
                "fr": "C'est noté, merci de nous avoir prévenus.",
                "de": "Verstanden, danke für Ihre Rückmeldung.",
                "pt": "Entendido, obrigado por nos avisar.",
            },
            "actions": {"tags": ["not-interested"], "outcome": "not_interested"},
        },
        {
            "name": "question",
            "patterns": {"*": ["[?¿]"]},
            "reply": _HOLDING,
            "actions": {"tags": ["question"], "hand_off": True},
        },
        {
            "name": "confirm",
            "keywords": {
                "en": ["yes", "yep", "yeah", "confirm", "confirmed", "ok", "okay", "sure",
                       "see you", "ill be there", "i will be there"],
                "es": ["si", "confirmo", "confirmado", "vale", "de acuerdo", "alli estare",
                       "ahi estare"],
                "fr": ["oui", "je confirme", "confirme", "d accord", "j y serai"],
                "de": ["ja", "bestatige", "bestaetige", "einverstanden", "passt"],
                "pt": ["sim", "confirmo", "confirmado", "combinado", "estarei la"],
                "*": ["👍", "👌", "✅"],
            },
            "reply": {
                "en": "Thank you, your appointment is confirmed. See you soon!",
                "es": "¡Gracias! Tu cita queda confirmada. ¡Hasta pronto!",
                "fr": "Merci, votre rendez-vous est confirmé. À bientôt !",
                "de": "Danke, Ihr Termin ist bestätigt. Bis bald!",
                "pt": "Obrigado, o seu horário está confirmado. Até breve!",
            },
            "actions": {"tags": ["confirmed"], "outcome": "confirmed"},
        },
        {
            "name": "greeting",
            "keywords": {
                "en": ["hi", "hello", "hey", "good morning", "good afternoon", "good evening"],
                "es": ["hola", "buenos dias", "buenas tardes", "buenas noches"],
                "fr": ["bonjour", "salut", "bonsoir"],
                "de": ["hallo", "guten tag", "guten morgen", "servus"],
                "pt": ["ola", "oi", "bom dia", "boa tarde", "boa noite"],
            },
            "reply": {
                "en": "Hello {{name|there}}! Reply YES to confirm your appointment, or tell us "
                "if you need another time.",
                "es": "¡Hola! Responde SI para confirmar tu cita o dinos si necesitas "
                "otra hora.",
                "fr": "Bonjour ! Répondez OUI pour confirmer votre rendez-vous, ou "
                "dites-nous s'il vous faut un autre créneau.",
                "de": "Hallo! Antworten Sie JA, um Ihren Termin zu bestätigen, oder "
                "sagen Sie uns, wenn Sie einen anderen brauchen.",
                "pt": "Olá! Responda SIM para confirmar o seu horário ou diga-nos se "
                "precisa de outro.",
            },
        },
    ],
    "fallback": {"reply": _HOLDING, "actions": {"hand_off": True}},
}  # fmt: skip
