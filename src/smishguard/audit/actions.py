"""Security-relevant actions as ``source:subject:action`` tags (after warehouse's events/tags.py)."""

from enum import StrEnum


class Action(StrEnum):
    # Sign-in and keys
    SIGNIN_SUCCEEDED = "passkeys:signin:succeeded"
    SIGNIN_FAILED = "passkeys:signin:failed"
    KEY_REGISTERED = "passkeys:key:registered"
    KEY_RENAMED = "passkeys:key:renamed"
    KEY_REMOVED = "passkeys:key:removed"
    KEY_FLAGGED = "passkeys:key:flagged"
    KEY_REGISTRATION_REFUSED = "passkeys:key:refused"
    STEPUP_SUCCEEDED = "passkeys:stepup:succeeded"
    STEPUP_FAILED = "passkeys:stepup:failed"
    # Enrolment and recovery
    ENROLMENT_ISSUED = "accounts:enrolment:issued"
    ENROLMENT_USED = "accounts:enrolment:used"
    RECOVERY_REQUESTED = "accounts:recovery:requested"
    RECOVERY_APPROVED = "accounts:recovery:approved"
    RECOVERY_REFUSED = "accounts:recovery:refused"
    ENROLMENT_LINKS_EXPIRED = "accounts:enrolment:expired"
    ADMIN_GRANT_REQUESTED = "accounts:admin:grant_requested"
    ADMIN_ENROLMENT_REQUESTED = "accounts:admin:enrolment_requested"
    ADMIN_GRANTED = "accounts:admin:granted"
    REQUEST_APPROVED = "accounts:approval:approved"
    REQUEST_REFUSED = "accounts:approval:refused"
    APPROVAL_NOT_ELIGIBLE = "accounts:approval:not_eligible"
    RECOVERY_BREAK_GLASS = "accounts:recovery:break_glass"
    # Sessions
    SESSION_REVOKED = "accounts:session:revoked"
    SESSION_SIGNED_OUT = "accounts:session:signed_out"
    STEPUP_REQUIRED = "accounts:session:stepup_required"
    KEY_TOUCH_DEMANDED = "accounts:session:key_touch_demanded"
    # Employees
    EMPLOYEE_CREATED = "accounts:employee:created"
    EMPLOYEE_UPDATED = "accounts:employee:updated"
    EMPLOYEE_SUSPENDED = "accounts:employee:suspended"
    EMPLOYEE_REACTIVATED = "accounts:employee:reactivated"
    EMPLOYEE_OFFBOARDED = "accounts:employee:offboarded"
    EMPLOYEES_IMPORTED = "accounts:employee:imported"
    PHONE_CHANGED = "accounts:employee:phone_changed"
    # Policy
    POLICY_REFUSED = "passkeys:policy:refused"
    # Detection configuration and API access
    BRAND_SAVED = "reports:brand:saved"
    BRAND_DELETED = "reports:brand:deleted"
    KEYWORDS_ADDED = "detection:keyword:added"
    API_TOKEN_ISSUED = "accounts:api_token:issued"
    API_TOKEN_REVOKED = "accounts:api_token:revoked"
    API_TOKEN_REFUSED = "accounts:api_token:refused"
    # Messaging (Twilio)
    MESSAGING_WEBHOOK_REFUSED = "messaging:webhook:refused"
    MESSAGING_INBOUND_RATE_LIMITED = "messaging:inbound:rate_limited"
    MESSAGING_BROADCAST_QUEUED = "messaging:broadcast:queued"
    MESSAGING_SMS_FAILED = "messaging:sms:failed"
    SECURITY_NOTICE_QUEUED = "messaging:notice:queued"
    SECURITY_NOTICE_SKIPPED = "messaging:notice:skipped"
    EMAIL_SENT = "messaging:email:sent"
    EMAIL_FAILED = "messaging:email:failed"
    # Certificate Transparency watch
    WATCH_TREE_HEAD_REFUSED = "watch:tree_head:refused"
    WATCH_ALERT_STATUS_CHANGED = "watch:alert:status_changed"
    WATCH_WEBHOOK_FAILED = "watch:webhook:failed"
    # Reported texts, campaigns and the response
    REPORT_RECEIVED = "reports:report:received"
    REPORT_RATE_LIMITED = "reports:report:rate_limited"
    CAMPAIGN_CREATED = "reports:campaign:created"
    CAMPAIGN_STATUS_CHANGED = "reports:campaign:status_changed"
    CAMPAIGN_BLOCKLISTED = "reports:campaign:blocklisted"
    CAMPAIGN_WARNED = "reports:campaign:warned"
    CAMPAIGN_ALERTED = "reports:campaign:alerted"
    CAMPAIGN_ALERT_FAILED = "reports:campaign:alert_failed"
    CAMPAIGN_STIX_EXPORTED = "reports:campaign:stix_exported"
    BLOCKLIST_ENTRY_REMOVED = "reports:blocklist:removed"
    REPORT_ATTRIBUTION_REFUSED = "reports:report:attribution_refused"
    SECURITY_ALERT_SENT = "reports:security_alert:sent"
    SECURITY_ALERT_FAILED = "reports:security_alert:failed"
    REPORT_MARKED_ATTACK = "reports:report:marked_attack"
    # Audit itself
    AUDIT_EXPORTED = "audit:trail:exported"
    # The database: `smishguard migrate` changed the services' role's privileges (smishguard.dbroles)
    DATABASE_ROLE_GRANTED = "db:role:granted"
    SIEM_STREAM_STARTED = "siem:stream:started"  # a [[siem.streams]] entry ran for the first time
    # Rate limits: the first refusal of a window per source, with the count of earlier refusals not recorded
    REQUEST_RATE_LIMITED = "accounts:request:rate_limited"
    # Operations: GET /metrics without the right bearer token (once per source and window)
    METRICS_TOKEN_REFUSED = "ops:metrics:refused"
    # The gateway: a check asked by a peer outside [gateway] trusted_proxies (once per source and window)
    GATEWAY_CHECK_UNTRUSTED_PROXY = "gateway:check:untrusted_proxy"
    GATEWAY_POLICY_RELOADED = "gateway:policy:reloaded"  # a web server's SIGHUP read a changed [gateway]
    GATEWAY_POLICY_RELOAD_REFUSED = "gateway:policy:reload_refused"  # ... that did not load: the old one stays
    # The gateway: a new key signs X-Smishguard-Assertion (`smishguard gateway rotate-key`)
    GATEWAY_KEY_ROTATED = "gateway:key:rotated"
    # The gateway's access record and containment (gateway.access, gateway.containment, gateway.retention)
    GATEWAY_BULK_READ_CONTAINED = "gateway:containment:contained"
    GATEWAY_RELEASE_REQUESTED = "gateway:containment:release_requested"
    GATEWAY_CONTAINMENT_RELEASED = "gateway:containment:released"
    GATEWAY_ACCESS_EXPORTED = "gateway:access:exported"
    GATEWAY_ACCESS_PRUNED = "gateway:access:pruned"
    # A breach scope was asked (`smishguard incident scope`, the console's Incidents page): who, which accounts, when
    INCIDENT_SCOPE_REPORTED = "gateway:incident:scope_reported"
    # Awareness training: modules, assignments, completions
    TRAINING_MODULE_CREATED = "training:module:created"
    TRAINING_MODULE_VERSIONED = "training:module:versioned"
    TRAINING_MODULE_ARCHIVED = "training:module:archived"
    TRAINING_ASSIGNED = "training:assignment:created"
    TRAINING_COMPLETED = "training:assignment:completed"
    TRAINING_QUIZ_FAILED = "training:quiz:failed"
    TRAINING_REMINDED = "training:assignment:reminded"
    # SMS phishing simulations
    SIMULATION_CREATED = "training:simulation:created"
    SIMULATION_LAUNCH_REQUESTED = "training:simulation:launch_requested"
    SIMULATION_LAUNCHED = "training:simulation:launched"
    SIMULATION_PAUSED = "training:simulation:paused"
    SIMULATION_RESUMED = "training:simulation:resumed"
    SIMULATION_CANCELLED = "training:simulation:cancelled"
    SIMULATION_LINKS_EXPORTED = "training:simulation:links_exported"
    SIMULATION_RESULTS_EXPORTED = "training:simulation:results_exported"
    SIMULATION_RESULTS_REDUCED = "training:simulation:results_reduced"
    SIMULATION_SUBMITTED = "training:simulation:submitted"  # someone typed into a drill page (nothing kept)
    SIMULATION_OPTED_OUT = "training:simulation:opted_out"
    SIMULATION_OPTED_IN = "training:simulation:opted_in"
    SIMULATION_PROGRAMME_CHANGED = "accounts:employee:simulations_changed"

    @property
    def source(self) -> str:
        return self.value.split(":", 1)[0]

    @property
    def label(self) -> str:
        return self.value.replace(":", " ").replace("_", " ")
