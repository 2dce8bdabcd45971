"""The words the blameless-language rules look for, kept apart from the rules so that each
list can be read (and argued with) on its own. Regular-expression fragments, no groups.

Each list is grounded in the literature the rules follow (see `language.py`): Dekker's
counterfactual phrases ("they shouldn't have", "they could have", "they didn't", "they failed
to", "if only they had") and his judgement labels ("complacency", "loss of situation
awareness", "human error"); the blameless guides' examples of person-focused writing ("X forgot
to run the migration", "the QA team missed the bug", "deployed … without proper review").
"""

from __future__ import annotations

# People written without a name: roles and teams ("the on-call engineer", "the QA team").
ROLE = (
    r"(?:engineers?|operators?|on-?call(?:ers?)?|developers?|devs?|admins?|administrators?|"
    r"sres?|responders?|team members?|maintainers?|staff|reviewers?|authors?|teams?|"
    r"managers?|commanders?|new hires?|colleagues?|people|person|qa|ops|"
    r"incident commanders?|release managers?)"
)
PRONOUN = r"(?:he|she|they|we|i|you|someone|somebody|nobody|no one|no-one)"
HANDLE = r"@[\w.-]+"
# A role with its article: "the on-call", "one engineer", "any experienced operator".
ROLE_PHRASE = (
    r"(?:(?:the|an?|our|their|one of the|one|a single|another|second|first|any|every|each)"
    rf"\s+(?:[\w-]+\s+){{0,2}}?{ROLE}|responders|engineers|operators|developers|reviewers|"
    r"maintainers|(?<![\w-])[A-Z][\w-]*\s+team members?)"
)

# Verbs that, with a person as their subject, make the person the cause of a failure.
FAILURE_VERBS = (
    r"(?:broke|caused|failed(?! over\b| back\b)|misconfigured|mistyped|misread|misjudged|"
    r"mishandled|miscommunicated|messed up|screwed up|took down|brought down|"
    r"pushed a bad|made a mistake|made an error|triggered the (?:incident|outage)|"
    r"wasn't (?:fully )?aware|was not (?:fully )?aware)"
)
# Lapses: with a person as subject they are both a counterfactual (what was not done) and
# person-focused ("@x overlooked a critical piece", "the operator skipped one of the checks").
LAPSE_VERBS = r"(?:forgot|missed|ignored|overlooked|skipped|neglected|dropped the ball)"
# Things done by people that a passive sentence can report as not done ("was not followed").
HUMAN_CHECKS = (
    r"(?:caught|noticed|spotted|followed|checked|tested|reviewed|verified|validated|"
    r"acknowledged|escalated|communicated|double-checked)"
)
# "did not …" followed by a state of mind or of the world is not a lapse ("did not know",
# "did not receive the alert").
NOT_A_LAPSE = (
    r"(?!know|think|expect|see|have|need|want|appear|seem|get|find|receive|hear|lose|run out|"
    r"go\b|feel\b)"
)
# What "nobody …" did not do that reads as a lapse ("nobody checked"), not a fact about use
# ("nobody used it").
NOBODY_DID = (
    r"checked|noticed|caught|spotted|looked|reviewed|tested|verified|validated|followed|"
    r"acknowledged|escalated|asked|told|warned|reported|monitored|watched|responded|replied"
)
# Checks skipped on the way: "without checking", "without a proper review".
WITHOUT = (
    r"\bwithout\s+(?:first\s+|properly\s+|fully\s+)?(?:checking|testing|verifying|reviewing|"
    r"confirming|reading|looking|asking|telling|notifying|waiting|consulting|validating|"
    r"double-checking|(?:a\s+|any\s+)?(?:proper\s+|second\s+|prior\s+|peer\s+)?"
    r"(?:review|approval|testing|tests|sign-off|reviewer))\b"
)
CHANGE_VERBS = (
    r"(?:merged|deployed|applied|pushed|released|shipped|approved|run|executed|changed|"
    r"rolled out)"
)
# What a person's change is called when the outcome grades it.
BAD_CHANGE = (
    r"(?:introduced|pushed|deployed|merged|shipped|committed)\s+(?:a\s+|an\s+|the\s+)?"
    r"(?:bad|broken|faulty|buggy|wrong|untested|incorrect|typo|bug|regression)\b"
)
WRONG_TARGET = (
    r"\b(?:the\s+)?(?:wrong|incorrect)\s+(?:cluster|environment|workspace|region|account|"
    r"database|server|host|branch|playbook|script|command|file|config|context|namespace|"
    r"project|inventory|target|key|flag|value|version|button|table|bucket)\b"
)
# Grades of people (adjectives with a person as subject, nouns that blame on their own).
GRADES = (
    r"careless|sloppy|negligent|reckless|over-?zealous|over-?eager|hasty|inattentive|"
    r"complacent|lazy|incompetent|unprofessional|idiotic|rash"
)
GRADE_NOUNS = r"(?:complacency|carelessness|negligence|inattention|incompetence|sloppiness)"
# "error" as a fault, not "error budget", "error rate", "error handling".
FAULT = (
    r"(?:mistake|fault|oversight|negligence|carelessness|blunder|slip|"
    r"error(?!\s+(?:budgets?|rates?|logs?|messages?|pages?|handling|codes?|tracking|reporting)))"
)
# Human actions that a normative sentence grades as late ("too slow to escalate").
HUMAN_ACTIONS = (
    r"(?:escalate|respond|react|notice|realise|realize|acknowledge|declare|page|act|decide|"
    r"investigate|roll back|rollback|communicate|ask|raise|call|alert|spot|catch|identify)"
)
HINDSIGHT_WORDS = (
    r"\bunfortunately\b|\bmistakenly\b|\binadvertently\b|\baccidentally\b|\baccidental\b|"
    r"\berroneously\b|\bwrongly\b|\bby (?:mistake|accident)\b|\bunwittingly\b|"
    r"\bunintentional(?:ly)?\b|\bunknowingly\b|\bsadly\b|\bregrettably\b|"
    r"(?<=ed |en )in error\b"
)
MISTAKE_ADVERBS = (
    r"\bby (?:mistake|accident)\b|\bmistakenly\b|\baccidentally\b|\binadvertently\b|"
    r"\bunintentionally\b|\bunwittingly\b"
)
# Fault claimed for people, even one's own ("my mistake", "an oversight on our part"), but
# not "our error budget".
OWN_FAULT = (
    r"\b(?:our|my|his|her|their)\s+(?:own\s+)?" + FAULT + r"\b|"
    r"\b(?:mistake|error|oversight|failure|lapse) on (?:our|my|his|her|their) part\b"
)
