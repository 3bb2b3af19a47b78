#!/usr/bin/env bash
# Create or update, in one command, everything the Google SecOps "Zendesk CRM" guide builds by hand:
# APIs, the GCS bucket, the collector's service account and its roles, the credential in Secret Manager,
# the Pub/Sub topic, the Cloud Run function (gen2) running zdlogs, the Cloud Scheduler job, and read
# access for the SecOps feed. With `--ingestion api` the function pushes records straight to the SecOps
# ingestion API instead (no feed; the bucket keeps only checkpoints, the lease and delivery markers) and
# its service account gets a custom role holding only chronicle.logs.import on the SecOps project.
# Every step looks first (describe) and creates only what is missing, so running it again updates in
# place. `--dry-run` prints the gcloud commands without running anything.
# With `--fleet FILE` it deploys instead a Cloud Run job collecting every tenant of a fleet config file
# (docs/FLEET_DEPLOY.md): the file and each tenant's credential mounted from Secret Manager, the tenants
# sharded over the job's tasks (`zdlogs run --shard auto`), and a Cloud Scheduler job running it hourly.
set -Eeuo pipefail

readonly PROG="deploy.sh"
readonly SA_ID="zdlogs-collector"
readonly STATE_KEY="_zdlogs/state.json"
readonly DEFAULT_PREFIX="zendesk/crm/"
readonly IMPORT_ROLE_ID="zdlogsLogImporter"   # custom role: chronicle.logs.import only (SecOps project)
readonly IMPORT_PERMISSION="chronicle.logs.import"
# --create-feed: the Chronicle API's FeedsService, v1 (googleapis/googleapis google/cloud/chronicle/v1/feed.proto:
# POST /v1/{parent}/feeds, GET /v1/{parent}/feeds, GET /v1/{parent}/feedServiceAccounts:fetchServiceAccountForCustomer,
# parent = projects/P/locations/L/instances/I; https://cloud.google.com/chronicle/docs/reference/rest/v1/).
readonly FEED_API_VERSION="v1"
# The log type of each stream's feed (--feed-log-type STREAM=TYPE overrides; none: no feed for that stream). Must
# equal zdlogs.config.DEFAULT_SECOPS_LOG_TYPES, the SecOps sink's (tests/deploy/test_create_feed.py compares them):
# Google documents ZENDESK_CRM for the audit log and ticket data, and access-log fields (its 2025-09-02 parser
# change log); ticket events are ticket data; users and organizations have no Zendesk log type of their own, so they
# go under the same one, kept as raw logs where the parser maps nothing (docs/SECOPS.md §6 "Log types").
readonly DEFAULT_FEED_LOG_TYPES=(
  audit_logs=ZENDESK_CRM incremental_tickets=ZENDESK_CRM access_logs=ZENDESK_CRM
  ticket_events=ZENDESK_CRM users=ZENDESK_CRM organizations=ZENDESK_CRM
)
readonly STREAMS=(audit_logs incremental_tickets access_logs ticket_events users organizations)
readonly MAX_RUNTIME=480          # seconds of collection per run; the function's timeout is 540s
readonly FLEET_CONFIG_PATH="/etc/zdlogs/fleet.yaml"  # where the job's container finds the fleet file
readonly TENANT_SECRET_PREFIX="zdlogs-"            # /secrets/acme/... is the secret zdlogs-acme
# Tenants per task for the default --tasks (ceil(tenants / 50), at least 1). An hourly pass of one tenant is
# a few incremental pages, typically well under a minute, so 50 tenants at --parallel 4 fit in the 3300 s
# task timeout with a wide margin; a failed or retried task (--max-retries 1) re-runs only its 50; and each
# task is one container start and one image pull, which far more, smaller tasks would multiply for nothing.
readonly TENANTS_PER_TASK=50
readonly FLEET_APIS=(
  run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com cloudscheduler.googleapis.com
  secretmanager.googleapis.com iam.googleapis.com logging.googleapis.com
)
readonly APIS=(
  cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com
  eventarc.googleapis.com pubsub.googleapis.com cloudscheduler.googleapis.com secretmanager.googleapis.com
  storage.googleapis.com iam.googleapis.com logging.googleapis.com
)
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT

usage() {
  cat <<'EOF'
Usage: deploy/gcp/deploy.sh --project P --region R --bucket B --zendesk-base-url https://SUB.zendesk.com [options]

Creates or updates (idempotently) the GCS bucket, the service account zdlogs-collector@P.iam.gserviceaccount.com
and its roles, the Zendesk credential in Secret Manager, the Pub/Sub topic, the Cloud Run function (gen2)
running zdlogs, the Cloud Scheduler job, and the SecOps feed's read access to the bucket (--ingestion feed)
or the function's right to import logs into SecOps (--ingestion api).

Required:
  --project P                    GCP project id
  --region R                     region of the bucket, function and scheduler job (e.g. us-central1)
  --bucket B                     bucket name (created if missing, uniform access, location = region)
  --zendesk-base-url URL         https://<subdomain>.zendesk.com

Zendesk credentials:
  --auth-mode oauth|token|bearer default oauth (OAuth client credentials; API tokens stop working 2027-04-30)
  --client-id ID                 OAuth client id (oauth)
  --zendesk-email E              admin e-mail (token)
  --secret-file PATH             file holding the OAuth client secret / API token / bearer token; read from
                                 the file only, trailing newlines dropped, stored as a new secret version.
                                 Needed the first time; omit it to keep the stored secret.

Collection:
  --prefix P                     data prefix the SecOps feed reads (default zendesk/crm/; feed only)
  --resources LIST               default audit_logs,incremental_tickets; or all, or a list among audit_logs,
                                 incremental_tickets, access_logs, ticket_events, users, organizations
  --max-pages N                  pages per stream per run (default 100; each run also stops after 480 s)
  --since DATE                   first run only: collect from this UTC date/time (YYYY-MM-DD[THH:MM:SSZ])
  --schedule CRON                Cloud Scheduler cron, UTC (default "0 * * * *")

Names:
  --function-name NAME           default zendesk-crm-to-gcs (in both modes: switching --ingestion redeploys it)
  --topic NAME                   default zendesk-crm-trigger
  --scheduler-job NAME           default <function-name>-schedule

How records reach Google SecOps:
  --ingestion feed|api           feed (default): the function writes NDJSON objects under gs://B/PREFIX and a
                                 SecOps feed (Google Cloud Storage V2) reads them.
                                 api: the function sends every record to the SecOps ingestion API
                                 (logs:import, ZDLOGS_OUTPUT=secops://...); gs://B/ keeps only checkpoints,
                                 the run lease and delivery markers (ZDLOGS_SECOPS_STATE). Needs
                                 --secops-instance; creates the custom role projects/SECOPS_PROJECT/roles/
                                 zdlogsLogImporter (only chronicle.logs.import), grants it to the collector's
                                 account on the SecOps project and enables the Chronicle API there.

Google SecOps feeds (--ingestion feed): one Google Cloud Storage V2 feed per stream, reading gs://B/PREFIX/STREAM/
  --secops-service-account EMAIL the feeds' service account ("Get a service account" on the feed page): gets
                                 roles/storage.objectViewer and roles/storage.legacyBucketReader on the bucket
  --secops-can-delete            also let the feeds delete what they transferred (source deletion option):
                                 roles/storage.objectAdmin limited to objects under the data prefix
  --create-feed                  create the feeds with the Chronicle API (curl, as the gcloud account): fetch
                                 the feeds' service account (unless --secops-service-account), grant it as
                                 above, then create each feed missing (one of the same display name is kept).
                                 Needs --secops-instance (below); --secops-endpoint applies too
  --feed-log-type STREAM=TYPE    repeatable: the log type of a stream's feed, or none for no feed (default
                                 ZENDESK_CRM for every stream, as the SecOps sink; e.g. users=none skips the
                                 account records, which Google's parser documents no mapping for)
  --feed-name NAME               feeds are named "NAME STREAM" (default "Zendesk CRM")
  --feed-max-file-age DAYS       files older than this are not ingested (default 180)
  --feed-asset-namespace NS      the feeds' asset namespace (default none)
  --feed-label KEY=VALUE         repeatable: an ingestion label on every feed

Google SecOps ingestion API (--ingestion api), and the instance of --create-feed:
  --secops-instance P/L/I        SECOPS_PROJECT/LOCATION/INSTANCE: the project bound to SecOps (may differ
                                 from --project), its location (us, europe, europe-west2, ...) and the
                                 instance's customer id (SIEM Settings > Profile)
  --secops-endpoint URL          the API origin if not the regional https://chronicle.LOCATION.rep.googleapis.com
                                 (zdlogs' default), e.g. https://LOCATION-chronicle.googleapis.com

Other:
  --staging-dir DIR              build the function source in DIR (new or empty) and keep it
  --dry-run                      print every gcloud command that would run ("+ " lines), run nothing and
                                 read no secret (a --secret-file still to be written is only noted)
  --assume-exists                with --dry-run: print the update path (as if every resource existed)
  -h, --help                     this text

A fleet (many Zendesk accounts from one config file, docs/FLEET_DEPLOY.md):
  deploy/gcp/deploy.sh --fleet FILE --project P --region R [--tasks N] [--parallelism T] [--parallel K] ...

  Deploys, from this checkout's Dockerfile (gcloud run jobs deploy --source), the Cloud Run job NAME running
  `zdlogs run --config /etc/zdlogs/fleet.yaml --shard auto --parallel K` in each of its N tasks; FILE is
  stored as the secret zdlogs-fleet-config and mounted at /etc/zdlogs/fleet.yaml; the Cloud Scheduler job
  NAME-schedule runs the job (POST .../jobs/NAME:run as zdlogs-collector@P.iam.gserviceaccount.com).
  Every tenant's api_token_file / client_secret_file / bearer_token_file in FILE must be
  /secrets/DIR/FILE (one directory per secret: Cloud Run mounts one secret per directory); it is mounted
  from the Secret Manager secret zdlogs-DIR (latest version).
  Must exist first: each secret zdlogs-DIR, with the credential as its latest version, e.g.
    gcloud secrets create zdlogs-acme --project=P --data-file=./acme-client-secret
  and, for a gs:// output, the bucket (pass --bucket B to give the collector's account objectAdmin on it).
  The tenants' outputs and all other settings come from FILE; the flags of one account do not apply.

  --fleet FILE                   the fleet config file (defaults: and tenants:)
  --tasks N                      tasks of the job, each collecting every Nth tenant (default
                                 ceil(tenants / 50), at least 1; at most the number of tenants)
  --parallelism T                tasks running at once (default N; at most N)
  --parallel K                   tenants collected at once in a task (default 4)
  --task-timeout S               seconds a task may run (default 3300: it ends before the next hourly run)
  --job-name NAME                default zdlogs-fleet
  --config-secret NAME           default zdlogs-fleet-config
  --bucket B                     optional: grant the collector's account objectAdmin on gs://B
  --schedule CRON, --scheduler-job NAME, --dry-run, --assume-exists: as above

Exit codes: 0 done, 1 a gcloud step failed (re-run after fixing: every step is idempotent), 2 bad arguments.
EOF
}

die() {  # one-line error naming the fix, exit 2
  printf '%s: error: %s\n' "$PROG" "$1" >&2
  exit 2
}

note() { printf '# %s\n' "$1" >&2; }

# ---------------------------------------------------------------- arguments

PROJECT="" REGION="" BUCKET="" BASE_URL="" AUTH_MODE="oauth" EMAIL="" CLIENT_ID="" SECRET_FILE=""
PREFIX="" SCHEDULE="0 * * * *" FUNCTION_NAME="zendesk-crm-to-gcs" TOPIC="zendesk-crm-trigger"
SCHEDULER_JOB="" SECOPS_SA="" SECOPS_CAN_DELETE=0 RESOURCES="audit_logs,incremental_tickets" MAX_PAGES=100
SINCE="" STAGING_DIR="" DRY_RUN=0 ASSUME_EXISTS=0 INGESTION="feed" SECOPS_INSTANCE="" SECOPS_ENDPOINT=""
FLEET_FILE="" TASKS="" PARALLELISM="" PARALLEL=4 TASK_TIMEOUT=3300 JOB_NAME="zdlogs-fleet"
CONFIG_SECRET="zdlogs-fleet-config" ONE_ACCOUNT_FLAGS=() FLEET_FLAGS=()
CREATE_FEED=0 FEED_FLAGS=() FEED_LOG_TYPES=() FEED_LABELS=() FEED_NAME="Zendesk CRM" FEED_MAX_AGE=180 FEED_NAMESPACE=""

parse_args() {
  local opt value
  while (($#)); do
    opt=$1
    value=""
    case $opt in
      -h | --help) usage; exit 0 ;;
      --dry-run) DRY_RUN=1; shift; continue ;;
      --assume-exists) ASSUME_EXISTS=1; shift; continue ;;
      --secops-can-delete) SECOPS_CAN_DELETE=1; ONE_ACCOUNT_FLAGS+=("$1"); shift; continue ;;
      --create-feed) CREATE_FEED=1; ONE_ACCOUNT_FLAGS+=("$1"); shift; continue ;;
      --*=*) value=${opt#*=}; opt=${opt%%=*}; shift ;;
      --*)
        (($# >= 2)) || die "$opt needs a value: pass $opt <value>"
        value=$2
        shift 2
        ;;
      *) die "unexpected argument (not shown, it may be a secret): every option starts with -- (see --help)" ;;
    esac
    case $opt in
      --fleet) FLEET_FILE=$value ;;
      --tasks) TASKS=$value ;;
      --parallelism) PARALLELISM=$value ;;
      --parallel) PARALLEL=$value ;;
      --task-timeout) TASK_TIMEOUT=${value%s} ;;
      --job-name) JOB_NAME=$value ;;
      --config-secret) CONFIG_SECRET=$value ;;
      --project) PROJECT=$value ;;
      --region) REGION=$value ;;
      --bucket) BUCKET=$value ;;
      --zendesk-base-url) BASE_URL=$value ;;
      --auth-mode) AUTH_MODE=$value ;;
      --zendesk-email) EMAIL=$value ;;
      --client-id) CLIENT_ID=$value ;;
      --secret-file) SECRET_FILE=$value ;;
      --prefix) PREFIX=$value ;;
      --resources) RESOURCES=$value ;;
      --max-pages) MAX_PAGES=$value ;;
      --since) SINCE=$value ;;
      --schedule) SCHEDULE=$value ;;
      --function-name) FUNCTION_NAME=$value ;;
      --topic) TOPIC=$value ;;
      --scheduler-job) SCHEDULER_JOB=$value ;;
      --secops-service-account) SECOPS_SA=$value ;;
      --ingestion) INGESTION=$value ;;
      --secops-instance) SECOPS_INSTANCE=$value ;;
      --secops-endpoint) SECOPS_ENDPOINT=$value ;;
      --feed-log-type) FEED_LOG_TYPES+=("$value") ;;
      --feed-label) FEED_LABELS+=("$value") ;;
      --feed-name) FEED_NAME=$value ;;
      --feed-max-file-age) FEED_MAX_AGE=$value ;;
      --feed-asset-namespace) FEED_NAMESPACE=$value ;;
      --staging-dir) STAGING_DIR=$value ;;
      --api-token | --client-secret | --bearer-token | --token | --secret | --password)
        die "$opt is not accepted (command lines are visible to other users): put the secret in a file and pass --secret-file PATH" ;;
      *) die "unknown option $opt: see --help" ;;
    esac
    case $opt in
      --fleet | --project | --region | --bucket | --schedule | --scheduler-job) ;;
      --tasks | --parallelism | --parallel | --task-timeout | --job-name | --config-secret) FLEET_FLAGS+=("$opt") ;;
      --feed-*) FEED_FLAGS+=("$opt") ONE_ACCOUNT_FLAGS+=("$opt") ;;
      *) ONE_ACCOUNT_FLAGS+=("$opt") ;;
    esac
  done
}

require() {  # require VALUE FLAG HINT
  [[ -n $1 ]] || die "$2 is required: pass $2 $3"
}

validate_args() {
  ((${#FLEET_FLAGS[@]} == 0)) || die "${FLEET_FLAGS[0]} only applies to a fleet: add --fleet FILE (see --help)"
  require "$PROJECT" --project "<your GCP project id>"
  require "$REGION" --region "<region, e.g. us-central1>"
  require "$BUCKET" --bucket "<bucket name, e.g. zendesk-crm-logs>"
  require "$BASE_URL" --zendesk-base-url "https://<subdomain>.zendesk.com"

  [[ $PROJECT =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] ||
    die "--project '$PROJECT' is not a project id: use the id (lowercase, 6-30 chars), not the display name or number"
  [[ $REGION =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || die "--region '$REGION' is not a region: use e.g. us-central1 or europe-west1"
  BUCKET=${BUCKET#gs://}
  BUCKET=${BUCKET%/}
  [[ $BUCKET =~ ^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$ ]] ||
    die "--bucket '$BUCKET' is not a bucket name: 3-63 lowercase letters, digits, '-', '_' or '.', no gs:// path"

  BASE_URL=${BASE_URL%/}
  [[ $BASE_URL != http://* ]] || die "--zendesk-base-url uses plain http: use https://<subdomain>.zendesk.com"
  [[ $BASE_URL =~ ^https://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?$ ]] ||
    die "--zendesk-base-url '$BASE_URL' must be only an https origin: use https://<subdomain>.zendesk.com"

  case $AUTH_MODE in
    oauth) require "$CLIENT_ID" --client-id "<OAuth client unique identifier> (or use --auth-mode token)" ;;
    token) require "$EMAIL" --zendesk-email "<admin e-mail> (the API token's user)" ;;
    bearer) ;;
    *) die "--auth-mode '$AUTH_MODE' is unknown: use oauth, token or bearer" ;;
  esac
  [[ -z $EMAIL || $EMAIL =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+$ ]] ||
    die "--zendesk-email '$EMAIL' is not an e-mail address: pass the admin's address"
  [[ -z $CLIENT_ID || $CLIENT_ID =~ ^[A-Za-z0-9._@-]+$ ]] ||
    die "--client-id may only hold letters, digits and . _ @ -: copy the OAuth client's unique identifier"
  [[ -z $SECRET_FILE ]] || validate_secret_file

  validate_ingestion
  PREFIX=${PREFIX:-$DEFAULT_PREFIX}
  [[ $PREFIX =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_.-]+)*/$ ]] ||
    die "--prefix '$PREFIX' must be a relative path ending in '/' (letters, digits, - _ .): e.g. zendesk/crm/"
  [[ $STATE_KEY != "$PREFIX"* ]] ||
    die "--prefix '$PREFIX' would contain the checkpoint $STATE_KEY, which the feed would ingest: use e.g. zendesk/crm/"
  local stream='(audit_logs|incremental_tickets|access_logs|ticket_events|users|organizations)'
  [[ $RESOURCES == all || $RESOURCES =~ ^$stream(,$stream)*$ ]] ||
    die "--resources '$RESOURCES' is not valid: use all, or streams separated by commas among audit_logs," \
      "incremental_tickets, access_logs, ticket_events, users, organizations"
  [[ $MAX_PAGES =~ ^[1-9][0-9]{0,5}$ ]] || die "--max-pages '$MAX_PAGES' is not a positive integer: e.g. --max-pages 100"
  [[ -z $SINCE || $SINCE =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?Z?)?$ ]] ||
    die "--since '$SINCE' is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)"
  local fields
  read -r -a fields <<<"$SCHEDULE"
  ((${#fields[@]} == 5)) || die "--schedule '$SCHEDULE' is not a 5-field cron expression: e.g. \"0 * * * *\" (hourly)"
  [[ $FUNCTION_NAME =~ ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$ ]] ||
    die "--function-name '$FUNCTION_NAME' is not valid: lowercase letters, digits and '-', at most 63 chars"
  [[ $TOPIC =~ ^[A-Za-z][A-Za-z0-9._~%+-]{2,254}$ && $TOPIC != goog* ]] ||
    die "--topic '$TOPIC' is not a topic id: start with a letter, 3-255 letters, digits or - _ . ~ % +"
  SCHEDULER_JOB=${SCHEDULER_JOB:-$FUNCTION_NAME-schedule}
  [[ $SCHEDULER_JOB =~ ^[A-Za-z0-9_-]{1,500}$ ]] ||
    die "--scheduler-job '$SCHEDULER_JOB' is not valid: letters, digits, '-' and '_' only"
  [[ -z $SECOPS_SA || $SECOPS_SA =~ ^[a-z0-9._-]+@[a-z0-9.-]+\.gserviceaccount\.com$ ]] ||
    die "--secops-service-account '$SECOPS_SA' is not a service account e-mail: copy it from the SecOps feed page"
  ((!SECOPS_CAN_DELETE || CREATE_FEED)) || [[ -n $SECOPS_SA ]] ||
    die "--secops-can-delete needs --secops-service-account EMAIL (or --create-feed): the account the permission is for"
  validate_feed_args
  ((!ASSUME_EXISTS || DRY_RUN)) || die "--assume-exists only applies to --dry-run: add --dry-run"
  if ((DRY_RUN && !ASSUME_EXISTS)) && [[ -z $SECRET_FILE ]]; then
    die "--secret-file is required to create the secret: pass --secret-file PATH (or --assume-exists)"
  fi
  if [[ -n $STAGING_DIR && -e $STAGING_DIR ]]; then
    [[ -d $STAGING_DIR && -z $(ls -A "$STAGING_DIR") ]] ||
      die "--staging-dir '$STAGING_DIR' exists and is not an empty directory: pass a new or empty directory"
  fi
  ((DRY_RUN)) || command -v gcloud >/dev/null || die "gcloud not found: install the Google Cloud SDK (or use --dry-run)"
}

FEED_STREAMS=() FEED_TYPES=()

log_type_of() {  # the log type of a stream's feed: the defaults, then every --feed-log-type in order (last wins)
  local pair type=""
  for pair in "${DEFAULT_FEED_LOG_TYPES[@]}" "${FEED_LOG_TYPES[@]}"; do
    [[ ${pair%%=*} != "$1" ]] || type=${pair#*=}
  done
  printf '%s' "$type"
}

collected_streams() {  # the streams --resources collects (their folders under the data prefix), one a line
  if [[ $RESOURCES == all ]]; then printf '%s\n' "${STREAMS[@]}"; else printf '%s\n' "${RESOURCES//,/$'\n'}"; fi
}

validate_feed_args() {  # --create-feed and its options; FEED_STREAMS[i] gets a feed of log type FEED_TYPES[i]
  if ((!CREATE_FEED)); then
    ((${#FEED_FLAGS[@]} == 0)) || die "${FEED_FLAGS[0]} only applies to --create-feed: add --create-feed (see --help)"
    return 0
  fi
  local pair stream type label known=" ${STREAMS[*]} " collected
  collected=" $(collected_streams | tr '\n' ' ') "
  for pair in "${FEED_LOG_TYPES[@]}"; do
    stream=${pair%%=*} type=${pair#*=}
    [[ $pair == *=* && $known == *" $stream "* ]] ||
      die "--feed-log-type '$pair' is not STREAM=TYPE with STREAM among ${STREAMS[*]}: e.g. --feed-log-type users=none"
    [[ $type =~ ^[A-Za-z][A-Za-z0-9_]{0,99}$ ]] ||
      die "--feed-log-type '$pair': '$type' is not a SecOps log type: use e.g. ZENDESK_CRM, or none for no feed"
    [[ $collected == *" $stream "* ]] ||
      die "--feed-log-type '$pair': --resources does not collect $stream: add it to --resources (or drop the option)"
  done
  while read -r stream; do
    type=$(log_type_of "$stream")
    [[ $type != [Nn][Oo][Nn][Ee] ]] || continue
    FEED_STREAMS+=("$stream") FEED_TYPES+=("$(printf '%s' "$type" | tr '[:lower:]' '[:upper:]')")
  done < <(collected_streams)
  ((${#FEED_STREAMS[@]})) ||
    die "--create-feed has no feed to create: the log type of every collected stream is none (pass --feed-log-type STREAM=TYPE)"
  [[ $FEED_NAME =~ ^[A-Za-z0-9][A-Za-z0-9\ ._-]{0,40}$ ]] ||
    die "--feed-name '$FEED_NAME' is not valid: up to 41 letters, digits, spaces, '.', '_' or '-' (each feed is 'NAME STREAM')"
  [[ $FEED_MAX_AGE =~ ^[1-9][0-9]{0,4}$ ]] ||
    die "--feed-max-file-age '$FEED_MAX_AGE' is not a number of days: e.g. --feed-max-file-age 180"
  [[ -z $FEED_NAMESPACE || $FEED_NAMESPACE =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ ]] ||
    die "--feed-asset-namespace '$FEED_NAMESPACE' is not valid: letters, digits, '.', '_' and '-' only"
  for label in "${FEED_LABELS[@]}"; do
    [[ $label =~ ^[A-Za-z_][A-Za-z0-9_-]{0,62}=[A-Za-z0-9_.:/@-]{0,63}$ ]] ||
      die "--feed-label '$label' is not KEY=VALUE (letters, digits and _ - in KEY; no quotes or spaces): e.g. --feed-label source=zendesk"
  done
  ((DRY_RUN)) || command -v curl >/dev/null || die "curl not found: --create-feed calls the Chronicle API with it (install curl)"
  ((DRY_RUN)) || command -v python3 >/dev/null ||
    die "python3 not found: --create-feed reads the Chronicle API's answers with it (install python3)"
}

validate_secret_file() {  # a dry run reads no secret: a file still to be written is only noted
  if [[ ! -e $SECRET_FILE ]] && ((DRY_RUN)); then
    note "warning: --secret-file '$SECRET_FILE' does not exist yet: a real run reads the $(secret_label) from it"
    return 0
  fi
  [[ -f $SECRET_FILE && -r $SECRET_FILE ]] || die "--secret-file '$SECRET_FILE' is not a readable file: check the path"
  [[ -n $(tr -d '\r\n' <"$SECRET_FILE") ]] || die "--secret-file '$SECRET_FILE' is empty: write the $(secret_label) into it"
  if [[ -n $(find "$SECRET_FILE" -perm /077 2>/dev/null) ]]; then
    note "warning: $SECRET_FILE is readable by other users: chmod 600 it"
  fi
}

validate_ingestion() {  # --ingestion and the options that belong to one mode only
  case $INGESTION in
    feed)
      if ((CREATE_FEED)); then
        require "$SECOPS_INSTANCE" --secops-instance "SECOPS_PROJECT/LOCATION/INSTANCE (--create-feed creates the feeds there)"
        validate_secops_instance
      else
        [[ -z $SECOPS_INSTANCE ]] ||
          die "--secops-instance only applies to --ingestion api or --create-feed: add one of them"
        [[ -z $SECOPS_ENDPOINT ]] ||
          die "--secops-endpoint only applies to --ingestion api or --create-feed: add one of them"
      fi
      ;;
    api)
      require "$SECOPS_INSTANCE" --secops-instance "SECOPS_PROJECT/LOCATION/INSTANCE (--ingestion api sends to it)"
      [[ -z $SECOPS_SA ]] ||
        die "--secops-service-account is for a feed, and --ingestion api has none: drop it (or use --ingestion feed)"
      ((!SECOPS_CAN_DELETE)) ||
        die "--secops-can-delete is for a feed, and --ingestion api has none: drop it (or use --ingestion feed)"
      [[ -z $PREFIX ]] || die "--prefix is the feed's data prefix, and --ingestion api writes no data objects: drop it"
      ((!CREATE_FEED)) || die "--create-feed creates SecOps feeds, and --ingestion api needs none: drop it"
      validate_secops_instance
      ;;
    *) die "--ingestion '$INGESTION' is unknown: use feed (a SecOps feed reads the bucket) or api (logs:import)" ;;
  esac
}

SECOPS_PROJECT="" SECOPS_LOCATION="" SECOPS_ID="" SECOPS_PARENT=""

validate_secops_instance() {
  local instance=${SECOPS_INSTANCE#secops://} parts
  IFS=/ read -r -a parts <<<"${instance%/}"
  ((${#parts[@]} == 3)) ||
    die "--secops-instance '$SECOPS_INSTANCE' is not SECOPS_PROJECT/LOCATION/INSTANCE: e.g. my-secops-project/us/<customer id>"
  SECOPS_PROJECT=${parts[0]} SECOPS_LOCATION=${parts[1]} SECOPS_ID=${parts[2]}
  [[ $SECOPS_PROJECT =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] ||
    die "--secops-instance: '$SECOPS_PROJECT' is not a project id: use the id of the project bound to SecOps"
  [[ $SECOPS_LOCATION =~ ^[a-z]+(-[a-z]+[0-9]+)?$ ]] ||
    die "--secops-instance: '$SECOPS_LOCATION' is not a SecOps location: use e.g. us, europe or europe-west2"
  [[ $SECOPS_ID =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] ||
    die "--secops-instance: '$SECOPS_ID' is not an instance id: copy the customer id from SIEM Settings > Profile"
  SECOPS_INSTANCE="$SECOPS_PROJECT/$SECOPS_LOCATION/$SECOPS_ID"
  SECOPS_PARENT="projects/$SECOPS_PROJECT/locations/$SECOPS_LOCATION/instances/$SECOPS_ID"
  SECOPS_ENDPOINT=${SECOPS_ENDPOINT%/}
  [[ -z $SECOPS_ENDPOINT || $SECOPS_ENDPOINT =~ ^https://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?$ ]] ||
    die "--secops-endpoint '$SECOPS_ENDPOINT' must be only an https origin: e.g. https://chronicle.$SECOPS_LOCATION.rep.googleapis.com"
}

SA_EMAIL="" SECRET_NAME="" SECRET_ENV="" IMPORT_ROLE=""

derive_names() {
  SA_EMAIL="$SA_ID@$PROJECT.iam.gserviceaccount.com"
  IMPORT_ROLE="projects/$SECOPS_PROJECT/roles/$IMPORT_ROLE_ID"
  case $AUTH_MODE in
    oauth) SECRET_NAME=zendesk-oauth-client-secret SECRET_ENV=ZENDESK_CLIENT_SECRET ;;
    token) SECRET_NAME=zendesk-api-token SECRET_ENV=ZENDESK_API_TOKEN ;;
    bearer) SECRET_NAME=zendesk-bearer-token SECRET_ENV=ZENDESK_BEARER_TOKEN ;;
  esac
}

secret_label() {
  case $AUTH_MODE in
    oauth) echo "OAuth client secret" ;;
    token) echo "API token" ;;
    *) echo "bearer token" ;;
  esac
}

# ---------------------------------------------------------------- running commands

quote() {  # shell-quote one word only when needed, so printed lines read like typed commands
  if [[ $1 =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

show() {  # show [--stdin FILE] CMD...: print "+ CMD" on stdout
  local stdin="" word line="+"
  if [[ $1 == --stdin ]]; then stdin=$2; shift 2; fi
  for word in "$@"; do line+=" $(quote "$word")"; done
  [[ -z $stdin ]] || line+=" < $(quote "$stdin")"
  printf '%s\n' "$line"
}

run() {  # a command that changes something: printed, and run unless --dry-run
  show "$@"
  ((DRY_RUN)) || "$@"
}

run_iam() {  # IAM bindings: a just-created account can take a few seconds to be visible, so retry a little
  local attempt
  show "$@"
  ((!DRY_RUN)) || return 0
  for attempt in 1 2 3 4 5; do
    "$@" && return 0
    ((attempt < 5)) || return 1
    note "retrying in $((attempt * 5)) s (new IAM members take a moment to propagate)"
    sleep $((attempt * 5))
  done
}

exists() {  # exists CMD...: a describe call, true if the resource is there (never called in --dry-run)
  "$@" >/dev/null 2>&1
}

HAVE_BUCKET=0 HAVE_SA=0 HAVE_SECRET=0 HAVE_TOPIC=0 HAVE_JOB=0 HAVE_ROLE=0 ROLE_DELETED=0

discover() {  # look before changing anything; --dry-run looks nowhere and assumes per --assume-exists
  STEP="look up existing resources"
  if ((DRY_RUN)); then
    HAVE_BUCKET=$ASSUME_EXISTS HAVE_SA=$ASSUME_EXISTS HAVE_SECRET=$ASSUME_EXISTS
    HAVE_TOPIC=$ASSUME_EXISTS HAVE_JOB=$ASSUME_EXISTS HAVE_ROLE=$ASSUME_EXISTS
    return 0
  fi
  if exists gcloud storage buckets describe "gs://$BUCKET" --format='value(name)'; then HAVE_BUCKET=1; fi
  if exists gcloud iam service-accounts describe "$SA_EMAIL" --project="$PROJECT" --format='value(email)'; then
    HAVE_SA=1
  fi
  if exists gcloud secrets describe "$SECRET_NAME" --project="$PROJECT" --format='value(name)'; then HAVE_SECRET=1; fi
  if exists gcloud pubsub topics describe "$TOPIC" --project="$PROJECT" --format='value(name)'; then HAVE_TOPIC=1; fi
  if exists gcloud scheduler jobs describe "$SCHEDULER_JOB" --project="$PROJECT" --location="$REGION" \
    --format='value(name)'; then
    HAVE_JOB=1
  fi
  [[ $INGESTION != api ]] || discover_import_role
  ((HAVE_SECRET)) || [[ -n $SECRET_FILE ]] ||
    die "secret $SECRET_NAME does not exist yet: pass --secret-file PATH holding the $(secret_label)"
}

discover_import_role() {  # a deleted custom role still answers describe (deleted: True) for 7 days
  local deleted
  if deleted=$(gcloud iam roles describe "$IMPORT_ROLE_ID" --project="$SECOPS_PROJECT" --format='value(deleted)' \
    2>/dev/null); then
    HAVE_ROLE=1
    [[ $deleted != True ]] || ROLE_DELETED=1
  fi
}

STEP="arguments"
on_error() {
  printf "%s: step '%s' failed (exit %s): fix the cause above and re-run; every step is idempotent\n" \
    "$PROG" "$STEP" "$1" >&2
}

# ---------------------------------------------------------------- steps

stage_source() {  # the function's source: main.py + requirements.txt + the zdlogs package (no simulator)
  STEP="stage function source"
  local sources="$REPO_ROOT/deploy/cloud_function" package="$REPO_ROOT/src/zdlogs" file
  for file in "$sources/main.py" "$sources/requirements.txt" "$package/cloud_function.py"; do
    [[ -f $file ]] || die "$file is missing: the function cannot be built from this checkout (update it)"
  done
  if [[ -z $STAGING_DIR ]]; then
    STAGING_DIR=$(mktemp -d "${TMPDIR:-/tmp}/zdlogs-function.XXXXXX")
    # shellcheck disable=SC2064  # expand now: the path is fixed
    trap "rm -rf '$STAGING_DIR'" EXIT
  fi
  mkdir -p "$STAGING_DIR"
  STAGING_DIR=$(cd "$STAGING_DIR" && pwd)
  cp "$sources/main.py" "$sources/requirements.txt" "$STAGING_DIR/"
  tar -C "$REPO_ROOT/src" --exclude=zdlogs/simulator --exclude=__pycache__ --exclude='*.pyc' -cf - zdlogs |
    tar -C "$STAGING_DIR" -xf -
  note "function source staged in $STAGING_DIR"
}

enable_apis() {
  STEP="enable APIs"
  run gcloud services enable "${APIS[@]}" --project="$PROJECT"
}

ensure_bucket() {
  STEP="bucket gs://$BUCKET"
  if ((HAVE_BUCKET)); then
    run gcloud storage buckets update "gs://$BUCKET" --uniform-bucket-level-access --public-access-prevention
  else
    run gcloud storage buckets create "gs://$BUCKET" --project="$PROJECT" --location="$REGION" \
      --default-storage-class=STANDARD --uniform-bucket-level-access --public-access-prevention
  fi
}

ensure_service_account() {
  STEP="service account $SA_EMAIL"
  if ((HAVE_SA)); then
    note "service account $SA_EMAIL exists: kept"
  else
    run gcloud iam service-accounts create "$SA_ID" --project="$PROJECT" \
      --display-name="zdlogs Zendesk collector" \
      --description="Cloud Run function $FUNCTION_NAME: collects Zendesk logs into $(destination)"
  fi
  STEP="roles of $SA_EMAIL"
  # Storage rights on this bucket only (the guide grants them project-wide). With --ingestion api the bucket
  # still holds the checkpoints, the run lease and the delivery markers.
  run_iam gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" --member="serviceAccount:$SA_EMAIL" \
    --role=roles/storage.objectAdmin --format=none
  run_iam gcloud projects add-iam-policy-binding "$PROJECT" --member="serviceAccount:$SA_EMAIL" \
    --role=roles/logging.logWriter --condition=None --format=none
}

ensure_import_role() {  # --ingestion api: the collector may import logs into SecOps, and nothing more
  [[ $INGESTION == api ]] || return 0
  STEP="Chronicle API in $SECOPS_PROJECT"
  run gcloud services enable chronicle.googleapis.com --project="$SECOPS_PROJECT"
  STEP="role $IMPORT_ROLE"
  local settings=(--project="$SECOPS_PROJECT" --title="zdlogs log importer"
    --description="Only $IMPORT_PERMISSION: lets zdlogs push Zendesk logs to SecOps (logs:import)"
    --permissions="$IMPORT_PERMISSION" --stage=GA)
  if ((HAVE_ROLE)); then
    ((!ROLE_DELETED)) || run gcloud iam roles undelete "$IMPORT_ROLE_ID" --project="$SECOPS_PROJECT"
    run gcloud iam roles update "$IMPORT_ROLE_ID" "${settings[@]}"
  else
    run gcloud iam roles create "$IMPORT_ROLE_ID" "${settings[@]}"
  fi
  STEP="$IMPORT_PERMISSION for $SA_EMAIL on $SECOPS_PROJECT"
  run_iam gcloud projects add-iam-policy-binding "$SECOPS_PROJECT" --member="serviceAccount:$SA_EMAIL" \
    --role="$IMPORT_ROLE" --condition=None --format=none
}

ensure_secret() {
  STEP="secret $SECRET_NAME"
  if ((HAVE_SECRET)); then
    [[ -n $SECRET_FILE ]] || note "secret $SECRET_NAME exists and no --secret-file: its latest version is kept"
  else
    run gcloud secrets create "$SECRET_NAME" --project="$PROJECT" --replication-policy=automatic
  fi
  if [[ -n $SECRET_FILE ]]; then
    local cmd=(gcloud secrets versions add "$SECRET_NAME" --project="$PROJECT" --data-file=-)
    show --stdin "$SECRET_FILE" "${cmd[@]}"
    # $(<file) drops trailing newlines, which editors and `echo` add but are no part of the secret.
    ((DRY_RUN)) || printf '%s' "$(<"$SECRET_FILE")" | "${cmd[@]}"
  fi
  run_iam gcloud secrets add-iam-policy-binding "$SECRET_NAME" --project="$PROJECT" \
    --member="serviceAccount:$SA_EMAIL" --role=roles/secretmanager.secretAccessor --format=none
}

ensure_topic() {
  STEP="topic $TOPIC"
  if ((HAVE_TOPIC)); then
    note "topic $TOPIC exists: kept"
  else
    run gcloud pubsub topics create "$TOPIC" --project="$PROJECT"
  fi
}

env_vars() {  # the function's environment; ';' separates entries (gcloud's ^;^ escape) since RESOURCES has commas
  local vars=("ZENDESK_BASE_URL=$BASE_URL" "AUTH_MODE=$AUTH_MODE")
  [[ $AUTH_MODE != token ]] || vars+=("ZENDESK_EMAIL=$EMAIL")
  [[ $AUTH_MODE != oauth ]] || vars+=("ZENDESK_CLIENT_ID=$CLIENT_ID")
  # the streams beyond the audit log and tickets have no resource scope we could verify: the global one
  [[ $AUTH_MODE != oauth || $RESOURCES =~ ^(audit_logs|incremental_tickets)(,(audit_logs|incremental_tickets))?$ ]] ||
    vars+=("ZENDESK_OAUTH_SCOPES=read")
  if [[ $INGESTION == api ]]; then
    vars+=("ZDLOGS_OUTPUT=secops://$SECOPS_INSTANCE" "ZDLOGS_SECOPS_STATE=gs://$BUCKET/")
    [[ -z $SECOPS_ENDPOINT ]] || vars+=("ZDLOGS_SECOPS_ENDPOINT=$SECOPS_ENDPOINT")
    vars+=("STATE_KEY=$STATE_KEY")
  else
    vars+=("GCS_BUCKET=$BUCKET" "GCS_PREFIX=$PREFIX" "STATE_KEY=$STATE_KEY")
  fi
  vars+=("RESOURCES=$RESOURCES" "MAX_PAGES=$MAX_PAGES" "ZDLOGS_MAX_RUNTIME=$MAX_RUNTIME")
  [[ -z $SINCE ]] || vars+=("ZDLOGS_SINCE=$SINCE")
  local IFS=';'
  printf '^;^%s' "${vars[*]}"
}

deploy_function() {
  STEP="function $FUNCTION_NAME"
  run gcloud functions deploy "$FUNCTION_NAME" --gen2 --project="$PROJECT" --region="$REGION" \
    --runtime=python312 --entry-point=main --source="$STAGING_DIR" --trigger-topic="$TOPIC" \
    --service-account="$SA_EMAIL" --trigger-service-account="$SA_EMAIL" \
    --timeout=540s --memory=512Mi --cpu=1 --min-instances=0 --max-instances=1 --ingress-settings=internal-only \
    --set-env-vars="$(env_vars)" --set-secrets="$SECRET_ENV=$SECRET_NAME:latest"
  STEP="invoker role on $FUNCTION_NAME"
  # The Pub/Sub trigger calls the function as the collector's account (--trigger-service-account).
  run_iam gcloud functions add-invoker-policy-binding "$FUNCTION_NAME" --project="$PROJECT" --region="$REGION" \
    --member="serviceAccount:$SA_EMAIL"
}

ensure_scheduler_job() {
  STEP="scheduler job $SCHEDULER_JOB"
  local verb=create
  ((!HAVE_JOB)) || verb=update
  run gcloud scheduler jobs "$verb" pubsub "$SCHEDULER_JOB" --project="$PROJECT" --location="$REGION" \
    --schedule="$SCHEDULE" --time-zone=Etc/UTC --topic="projects/$PROJECT/topics/$TOPIC" --message-body='{}' \
    --description="Triggers $FUNCTION_NAME (zdlogs): one incremental Zendesk collection per message"
}

grant_secops() {  # --ingestion feed: the feed reads (and may delete under the prefix); no feed with api
  [[ -n $SECOPS_SA ]] || return 0
  STEP="SecOps feed access for $SECOPS_SA"
  # A GCS V2 feed is a Storage Transfer Service transfer ("backed by Omniflow STS", chronicle v1 feed.proto), whose
  # service agent needs on a source bucket storage.objects.list and .get (Storage Object Viewer) and
  # storage.buckets.get, "to get the location of the bucket", which Storage Object Viewer lacks: Storage Legacy
  # Bucket Reader holds only it and objects.list (https://cloud.google.com/storage-transfer/docs/source-cloud-storage).
  run_iam gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" --member="serviceAccount:$SECOPS_SA" \
    --role=roles/storage.objectViewer --format=none
  run_iam gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" --member="serviceAccount:$SECOPS_SA" \
    --role=roles/storage.legacyBucketReader --format=none
  ((SECOPS_CAN_DELETE)) || return 0
  # Deletion only below the data prefix: the checkpoint and lease under _zdlogs/ stay out of its reach.
  local condition="expression=resource.name.startsWith(\"projects/_/buckets/$BUCKET/objects/$PREFIX\")"
  condition+=",title=secops-feed-data-prefix,description=SecOps may delete transferred objects under $PREFIX only"
  run_iam gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" --member="serviceAccount:$SECOPS_SA" \
    --role=roles/storage.objectAdmin --condition="$condition" --format=none
}

# ---------------------------------------------------------------- --create-feed: one SecOps feed per stream

SECOPS_TOKEN="" API_ANSWER=""

secops_api() {  # secops_api METHOD PATH [BODY]: print the call; unless --dry-run make it, its answer in API_ANSWER
  local method=$1 url body=${3-} line args
  # The regional endpoint, as the SecOps sink (zdlogs.config.DEFAULT_SECOPS_ENDPOINT): the feeds.create reference
  # lists https://chronicle.LOCATION.rep.googleapis.com for every location, us and eu included.
  url="${SECOPS_ENDPOINT:-https://chronicle.$SECOPS_LOCATION.rep.googleapis.com}/$FEED_API_VERSION/$2"
  # The printed line is what to paste; the real call passes the token on curl's stdin (--config -), not in its
  # argv, which other users can read. X-Goog-User-Project: a gcloud user token needs a quota project for some
  # APIs (https://cloud.google.com/sdk/gcloud/reference/auth/print-access-token).
  line="+ curl -sS --fail-with-body -X $method -H \"Authorization: Bearer \$(gcloud auth print-access-token)\""
  line+=" -H $(quote "X-Goog-User-Project: $SECOPS_PROJECT")"
  args=(-sS --fail-with-body -X "$method" -H "X-Goog-User-Project: $SECOPS_PROJECT")
  if [[ -n $body ]]; then
    line+=" -H $(quote "Content-Type: application/json") --data $(quote "$body")"
    args+=(-H "Content-Type: application/json" --data "$body")
  fi
  printf '%s %s\n' "$line" "$(quote "$url")"
  API_ANSWER=""
  ((!DRY_RUN)) || return 0
  [[ -n $SECOPS_TOKEN ]] || SECOPS_TOKEN=$(gcloud auth print-access-token)
  if ! API_ANSWER=$(printf 'header = "Authorization: Bearer %s"\n' "$SECOPS_TOKEN" | curl --config - "${args[@]}" "$url"); then
    printf '%s\n' "$API_ANSWER" >&2
    return 1
  fi
}

# Reads an answer of the Chronicle API on stdin: "account EMAIL" (the last part of a FeedServiceAccount's name),
# "feed NAME<TAB>BUCKET_URI" per feed of a ListFeedsResponse and "next TOKEN", or "reads SA" of a created Feed.
read -r -d '' FEED_READER <<'PY' || true
import json, sys
try:
    doc = json.load(sys.stdin)
except ValueError:
    print("error: the answer is not JSON")
    sys.exit(1)
if sys.argv[1] == "account":
    print("account", str(doc.get("name", "")).rsplit("/", 1)[-1])
elif sys.argv[1] == "feeds":
    for feed in doc.get("feeds", []):
        uri = feed.get("details", {}).get("gcsV2Settings", {}).get("bucketUri", "")
        print("feed", f"{feed.get('displayName', '')}\t{uri}")
    print("next", doc.get("nextPageToken", ""))
else:
    print("reads", doc.get("details", {}).get("gcsV2Settings", {}).get("chronicleServiceAccount", ""))
PY

read_answer() {  # read_answer KIND: FEED_READER over API_ANSWER
  python3 -c "$FEED_READER" "$1" <<<"$API_ANSWER"
}

feed_body() {  # feed_body STREAM LOG_TYPE: the Feed to create (JSON names: the proto3 JSON form of v1 feed.proto)
  local stream=$1 type=$2 deletion=NEVER labels="" label sep=""
  ((!SECOPS_CAN_DELETE)) || deletion=ON_SUCCESS  # SourceDeletionOptionV2: NEVER or ON_SUCCESS (files and empty folders)
  for label in "${FEED_LABELS[@]}"; do
    labels+="$sep\"${label%%=*}\":\"${label#*=}\""
    sep=","
  done
  printf '{"displayName":"%s %s","details":{"feedSourceType":"GOOGLE_CLOUD_STORAGE_V2",' "$FEED_NAME" "$stream"
  printf '"logType":"projects/%s/locations/%s/instances/%s/logTypes/%s",' "$SECOPS_PROJECT" "$SECOPS_LOCATION" \
    "$SECOPS_ID" "$type"
  printf '"gcsV2Settings":{"bucketUri":"gs://%s/%s%s/","sourceDeletionOption":"%s","maxLookbackDays":%s}' \
    "$BUCKET" "$PREFIX" "$stream" "$deletion" "$FEED_MAX_AGE"
  [[ -z $FEED_NAMESPACE ]] || printf ',"assetNamespace":"%s"' "$FEED_NAMESPACE"
  [[ -z $labels ]] || printf ',"labels":{%s}' "$labels"
  printf '}}'
}

fetch_feed_account() {  # SECOPS_SA: the account SecOps' GCS feeds read with, unless --secops-service-account gave it
  [[ -z $SECOPS_SA ]] || return 0
  STEP="fetch the SecOps feed service account"
  secops_api GET "$SECOPS_PARENT/feedServiceAccounts:fetchServiceAccountForCustomer"
  if ((DRY_RUN)); then
    SECOPS_SA="FEED_SERVICE_ACCOUNT"
    note "FEED_SERVICE_ACCOUNT: the address a real run reads from that answer (or pass --secops-service-account EMAIL)"
    return 0
  fi
  local kind account
  read -r kind account < <(read_answer account) || true
  [[ $kind == account && $account =~ ^[a-z0-9._-]+@[a-z0-9.-]+\.gserviceaccount\.com$ ]] || {
    printf "%s: error: the Chronicle API's feed service account '%s' is not an e-mail address: pass --secops-service-account EMAIL (\"Get a service account\" on a SecOps feed page)\n" \
      "$PROG" "${account:-}" >&2
    exit 1
  }
  SECOPS_SA=$account
  note "SecOps feed service account: $SECOPS_SA"
}

EXISTING_FEEDS=()

list_feeds() {  # EXISTING_FEEDS: "NAME<TAB>BUCKET_URI" of every feed of the instance (--dry-run: none, or ours)
  STEP="list the SecOps feeds"
  local token="" kind line query
  while :; do
    query="pageSize=1000${token:+&pageToken=$token}"
    secops_api GET "$SECOPS_PARENT/feeds?$query"
    if ((DRY_RUN)); then
      if ((ASSUME_EXISTS)); then
        local index
        for index in "${!FEED_STREAMS[@]}"; do
          EXISTING_FEEDS+=("$FEED_NAME ${FEED_STREAMS[index]}"$'\t'"gs://$BUCKET/$PREFIX${FEED_STREAMS[index]}/")
        done
      fi
      return 0
    fi
    token=""
    while IFS=' ' read -r kind line; do
      case $kind in
        feed) EXISTING_FEEDS+=("$line") ;;
        next) token=$line ;;
        error:) printf "%s: error: listing the SecOps feeds: %s: re-run; if it persists, create the feeds by hand (docs/SECOPS.md §1)\n" "$PROG" "$line" >&2; exit 1 ;;
      esac
    done < <(read_answer feeds)
    [[ -n $token ]] || return 0
  done
}

create_feeds() {  # one feed per stream; a feed of the same display name is kept as it is
  local index stream name uri existing found kind reader
  for index in "${!FEED_STREAMS[@]}"; do
    stream=${FEED_STREAMS[index]} name="$FEED_NAME ${FEED_STREAMS[index]}" uri="gs://$BUCKET/$PREFIX${FEED_STREAMS[index]}/"
    STEP="SecOps feed '$name'"
    found=""
    for existing in "${EXISTING_FEEDS[@]}"; do
      [[ ${existing%%$'\t'*} != "$name" ]] || found=${existing#*$'\t'}
    done
    if [[ -n $found ]]; then
      if [[ $found == "$uri" ]]; then
        note "SecOps feed '$name' exists: kept (it reads $uri)"
      else
        note "warning: SecOps feed '$name' exists and reads ${found:-another source}, not $uri: kept; pass --feed-name to create new ones"
      fi
      continue
    fi
    secops_api POST "$SECOPS_PARENT/feeds" "$(feed_body "$stream" "${FEED_TYPES[index]}")"
    ((!DRY_RUN)) || continue
    read -r kind reader < <(read_answer created) || true
    [[ $kind != reads || -z $reader || $reader == "$SECOPS_SA" ]] ||
      note "warning: SecOps feed '$name' reads as $reader, not $SECOPS_SA: re-run with --secops-service-account $reader"
  done
}

ensure_feeds() {  # --create-feed: the feed service account, its access to the bucket, then the feeds
  STEP="Chronicle API in $SECOPS_PROJECT"
  run gcloud services enable chronicle.googleapis.com --project="$SECOPS_PROJECT"
  fetch_feed_account
  grant_secops
  list_feeds
  create_feeds
}

destination() {
  if [[ $INGESTION == api ]]; then
    printf 'secops://%s' "$SECOPS_INSTANCE"
  else
    printf 'gs://%s/%s' "$BUCKET" "$PREFIX"
  fi
}

summary() {
  local verb="Deployed"
  ((!DRY_RUN)) || verb="Dry run (nothing was changed) for"
  note "$verb $FUNCTION_NAME in $PROJECT/$REGION, triggered by $TOPIC on \"$SCHEDULE\" (UTC)."
  if [[ $INGESTION == api ]]; then
    note "SecOps ingestion API: every record to secops://$SECOPS_INSTANCE (log type ZENDESK_CRM); no feed to create"
    note "Checkpoint, lease and delivery markers: gs://$BUCKET/_zdlogs/. Run now: gcloud scheduler jobs run $SCHEDULER_JOB --project=$PROJECT --location=$REGION"
    return 0
  fi
  if ((CREATE_FEED)); then
    local index
    for index in "${!FEED_STREAMS[@]}"; do
      note "SecOps feed '$FEED_NAME ${FEED_STREAMS[index]}': Google Cloud Storage V2, log type ${FEED_TYPES[index]}, URI gs://$BUCKET/$PREFIX${FEED_STREAMS[index]}/"
    done
  else
    note "SecOps feeds (create them, or re-run with --create-feed): source type Google Cloud Storage V2, one per stream, URI gs://$BUCKET/${PREFIX}STREAM/ (docs/SECOPS.md §1)"
  fi
  note "Checkpoint: gs://$BUCKET/$STATE_KEY (outside the feed's prefix). Run now: gcloud scheduler jobs run $SCHEDULER_JOB --project=$PROJECT --location=$REGION"
}

# ---------------------------------------------------------------- --fleet: a Cloud Run job for many tenants

TENANT_COUNT=0 FLEET_MOUNTS=() FLEET_SECRETS=() JOB_URI=""

fleet_python() {  # the interpreter that reads FILE: this checkout's virtualenv (it has PyYAML), else python3
  local python
  for python in "$REPO_ROOT/.venv/bin/python" python3; do
    if command -v "$python" >/dev/null && "$python" -c 'import yaml' 2>/dev/null; then
      printf '%s' "$python"
      return 0
    fi
  done
  die "no python3 with PyYAML to read --fleet FILE: run 'make dev' (the .venv) or 'pip install pyyaml'"
}

# Prints "tenants N", then "mount PATH SECRET" for each credential file; or one line "error: ..." (exit 2).
# Only the shape deploy needs is checked here: zdlogs checks the whole file when the job starts.
read -r -d '' FLEET_READER <<'PY' || true
import re, sys
import yaml

path, prefix, config_secret = sys.argv[1:4]
problems, mounts = [], {}

def fail(message):
    print(f"error: {path}: {message}")
    sys.exit(2)

try:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
except (OSError, UnicodeDecodeError) as exc:
    fail(f"cannot be read ({exc.__class__.__name__}): give the path of the fleet config file")
except yaml.YAMLError as exc:
    mark = getattr(exc, "problem_mark", None)
    fail(f"is not YAML{f' (line {mark.line + 1})' if mark else ''}: fix the file (zdlogs reads it as YAML)")
tenants = data.get("tenants") if isinstance(data, dict) else None
if not isinstance(tenants, dict) or not tenants:
    fail("tenants: holds no tenant: a fleet file has tenants: with one 'name:' per Zendesk account")
by_dir = {}
for name, section in tenants.items():
    for key, value in (section or {}).items() if isinstance(section, dict) else ():
        if key not in ("api_token_file", "client_secret_file", "bearer_token_file"):
            continue
        where = f"tenants.{name}.{key}"
        match = re.fullmatch(r"/secrets/([A-Za-z0-9_-]{1,200})/([A-Za-z0-9._-]+)", str(value))
        if not str(value).startswith("/secrets/"):
            problems.append(f"{where}: {value!r} is outside /secrets/: the job mounts credentials only under "
                            f"/secrets/ - use /secrets/{name}/{key.removesuffix('_file').replace('_', '-')}")
        elif not match:
            problems.append(f"{where}: {value!r} is not /secrets/DIR/FILE: Cloud Run mounts one secret per "
                            f"directory - use /secrets/{name}/{key.removesuffix('_file').replace('_', '-')}")
        elif by_dir.setdefault(match[1], str(value)) != str(value):
            problems.append(f"{where}: {value!r} shares /secrets/{match[1]}/ with {by_dir[match[1]]!r}: Cloud Run "
                            f"mounts one secret per directory - give each credential its own directory")
        elif prefix + match[1] == config_secret:
            problems.append(f"{where}: /secrets/{match[1]}/ would be the secret {config_secret}, which holds "
                            "the fleet file: rename the directory (or pass another --config-secret)")
        else:
            mounts[str(value)] = prefix + match[1]
if problems:
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    fail(problems[0] + more)
print(f"tenants {len(tenants)}")
for mount, secret in sorted(mounts.items()):
    print(f"mount {mount} {secret}")
PY

validate_fleet_args() {
  ((${#ONE_ACCOUNT_FLAGS[@]} == 0)) ||
    die "${ONE_ACCOUNT_FLAGS[0]} does not apply with --fleet: each tenant's settings are in FILE (drop the flag)"
  require "$PROJECT" --project "<your GCP project id>"
  require "$REGION" --region "<region, e.g. us-central1>"
  [[ $PROJECT =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] ||
    die "--project '$PROJECT' is not a project id: use the id (lowercase, 6-30 chars), not the display name or number"
  [[ $REGION =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || die "--region '$REGION' is not a region: use e.g. us-central1 or europe-west1"
  BUCKET=${BUCKET#gs://}
  BUCKET=${BUCKET%/}
  [[ -z $BUCKET || $BUCKET =~ ^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$ ]] ||
    die "--bucket '$BUCKET' is not a bucket name: 3-63 lowercase letters, digits, '-', '_' or '.', no gs:// path"
  [[ -f $FLEET_FILE && -r $FLEET_FILE ]] || die "--fleet '$FLEET_FILE' is not a readable file: check the path"
  [[ $JOB_NAME =~ ^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$ ]] ||
    die "--job-name '$JOB_NAME' is not valid: lowercase letters, digits and '-', at most 49 chars, a letter first"
  [[ $CONFIG_SECRET =~ ^[A-Za-z0-9_-]{1,255}$ ]] ||
    die "--config-secret '$CONFIG_SECRET' is not a secret id: letters, digits, '-' and '_' only"
  SCHEDULER_JOB=${SCHEDULER_JOB:-$JOB_NAME-schedule}
  [[ $SCHEDULER_JOB =~ ^[A-Za-z0-9_-]{1,500}$ ]] ||
    die "--scheduler-job '$SCHEDULER_JOB' is not valid: letters, digits, '-' and '_' only"
  local fields
  read -r -a fields <<<"$SCHEDULE"
  ((${#fields[@]} == 5)) || die "--schedule '$SCHEDULE' is not a 5-field cron expression: e.g. \"0 * * * *\" (hourly)"
  [[ $PARALLEL =~ ^[1-9][0-9]{0,2}$ ]] || die "--parallel '$PARALLEL' is not a positive integer: e.g. --parallel 4"
  [[ $TASK_TIMEOUT =~ ^[1-9][0-9]{1,5}$ ]] ||
    die "--task-timeout '$TASK_TIMEOUT' is not a number of seconds: e.g. --task-timeout 3300"
  # an hourly (or more frequent) schedule: a task still running at the next run would overlap it
  [[ ${fields[1]} != "*" ]] || ((TASK_TIMEOUT < 3600)) ||
    die "--task-timeout $TASK_TIMEOUT reaches the next run of the schedule '$SCHEDULE': use less than 3600 (default 3300)"
  ((!ASSUME_EXISTS || DRY_RUN)) || die "--assume-exists only applies to --dry-run: add --dry-run"
  read_fleet
  [[ -z $TASKS ]] || [[ $TASKS =~ ^[1-9][0-9]{0,4}$ ]] || die "--tasks '$TASKS' is not a positive integer: e.g. --tasks 2"
  TASKS=${TASKS:-$(((TENANT_COUNT + TENANTS_PER_TASK - 1) / TENANTS_PER_TASK))}
  ((TASKS <= TENANT_COUNT)) ||
    die "--tasks $TASKS is more than the $TENANT_COUNT tenants of $FLEET_FILE: some tasks would collect none (use at most $TENANT_COUNT)"
  [[ -z $PARALLELISM ]] || [[ $PARALLELISM =~ ^[1-9][0-9]{0,4}$ ]] ||
    die "--parallelism '$PARALLELISM' is not a positive integer: e.g. --parallelism $TASKS"
  PARALLELISM=${PARALLELISM:-$TASKS}
  ((PARALLELISM <= TASKS)) || die "--parallelism $PARALLELISM is more than --tasks $TASKS: Cloud Run needs at most $TASKS"
  ((DRY_RUN)) || command -v gcloud >/dev/null || die "gcloud not found: install the Google Cloud SDK (or use --dry-run)"
}

read_fleet() {  # TENANT_COUNT, and FLEET_MOUNTS[i] (a path under /secrets/) mounted from FLEET_SECRETS[i]
  local python output line kind
  python=$(fleet_python)
  output=$("$python" -c "$FLEET_READER" "$FLEET_FILE" "$TENANT_SECRET_PREFIX" "$CONFIG_SECRET") || {
    [[ $output == error:* ]] || output="error: --fleet $FLEET_FILE could not be read: run $python on it to see why"
    die "${output#error: }"
  }
  while read -r kind line; do
    case $kind in
      tenants) TENANT_COUNT=$line ;;
      mount) FLEET_MOUNTS+=("${line%% *}") FLEET_SECRETS+=("${line#* }") ;;
    esac
  done <<<"$output"
}

HAVE_CONFIG_SECRET=0 MISSING_SECRETS=()

discover_fleet() {  # look before changing anything; --dry-run looks nowhere and assumes per --assume-exists
  STEP="look up existing resources"
  if ((DRY_RUN)); then
    HAVE_SA=$ASSUME_EXISTS HAVE_CONFIG_SECRET=$ASSUME_EXISTS HAVE_JOB=$ASSUME_EXISTS
    ((ASSUME_EXISTS)) || note "a real run first checks that the secrets ${FLEET_SECRETS[*]:-(none)} exist"
    return 0
  fi
  if exists gcloud iam service-accounts describe "$SA_EMAIL" --project="$PROJECT" --format='value(email)'; then
    HAVE_SA=1
  fi
  if exists gcloud secrets describe "$CONFIG_SECRET" --project="$PROJECT" --format='value(name)'; then
    HAVE_CONFIG_SECRET=1
  fi
  if exists gcloud scheduler jobs describe "$SCHEDULER_JOB" --project="$PROJECT" --location="$REGION" \
    --format='value(name)'; then
    HAVE_JOB=1
  fi
  local secret
  for secret in "${FLEET_SECRETS[@]}"; do
    exists gcloud secrets versions describe latest --secret="$secret" --project="$PROJECT" --format='value(name)' ||
      MISSING_SECRETS+=("$secret")
  done
  ((${#MISSING_SECRETS[@]} == 0)) ||
    die "secret ${MISSING_SECRETS[0]} (of $FLEET_FILE) has no version in $PROJECT: create it first, e.g. gcloud secrets create ${MISSING_SECRETS[0]} --project=$PROJECT --data-file=FILE (${#MISSING_SECRETS[@]} missing: ${MISSING_SECRETS[*]})"
}

ensure_fleet_account() {
  STEP="service account $SA_EMAIL"
  if ((HAVE_SA)); then
    note "service account $SA_EMAIL exists: kept"
  else
    run gcloud iam service-accounts create "$SA_ID" --project="$PROJECT" --display-name="zdlogs Zendesk collector" \
      --description="Cloud Run job $JOB_NAME: collects the Zendesk fleet of $(basename "$FLEET_FILE")"
  fi
  STEP="roles of $SA_EMAIL"
  run_iam gcloud projects add-iam-policy-binding "$PROJECT" --member="serviceAccount:$SA_EMAIL" \
    --role=roles/logging.logWriter --condition=None --format=none
  [[ -z $BUCKET ]] || run_iam gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" \
    --member="serviceAccount:$SA_EMAIL" --role=roles/storage.objectAdmin --format=none
}

ensure_fleet_secrets() {  # the fleet file as a secret (a new version each run), and read access to every secret
  STEP="secret $CONFIG_SECRET"
  ((HAVE_CONFIG_SECRET)) ||
    run gcloud secrets create "$CONFIG_SECRET" --project="$PROJECT" --replication-policy=automatic
  run gcloud secrets versions add "$CONFIG_SECRET" --project="$PROJECT" --data-file="$FLEET_FILE"
  local secret
  for secret in "$CONFIG_SECRET" "${FLEET_SECRETS[@]}"; do
    STEP="read access to secret $secret"
    run_iam gcloud secrets add-iam-policy-binding "$secret" --project="$PROJECT" \
      --member="serviceAccount:$SA_EMAIL" --role=roles/secretmanager.secretAccessor --format=none
  done
}

deploy_fleet_job() {  # one --set-secrets per mount: each is a file in its own directory (one secret per directory)
  STEP="Cloud Run job $JOB_NAME"
  local secrets=("--set-secrets=$FLEET_CONFIG_PATH=$CONFIG_SECRET:latest") index
  for index in "${!FLEET_MOUNTS[@]}"; do
    secrets+=("--set-secrets=${FLEET_MOUNTS[index]}=${FLEET_SECRETS[index]}:latest")
  done
  run gcloud run jobs deploy "$JOB_NAME" --project="$PROJECT" --region="$REGION" --source="$REPO_ROOT" \
    --service-account="$SA_EMAIL" --tasks="$TASKS" --parallelism="$PARALLELISM" \
    --task-timeout="${TASK_TIMEOUT}s" --max-retries=1 --cpu=1 --memory=1Gi \
    --args="--log-format,json,run,--config,$FLEET_CONFIG_PATH,--shard,auto,--parallel,$PARALLEL" "${secrets[@]}"
  STEP="invoker role on $JOB_NAME"
  # Cloud Scheduler calls the Cloud Run Admin API as the collector's account: it needs run.jobs.run on the job.
  run_iam gcloud run jobs add-iam-policy-binding "$JOB_NAME" --project="$PROJECT" --region="$REGION" \
    --member="serviceAccount:$SA_EMAIL" --role=roles/run.invoker
}

ensure_fleet_schedule() {
  STEP="scheduler job $SCHEDULER_JOB"
  local verb=create
  ((!HAVE_JOB)) || verb=update
  JOB_URI="https://run.googleapis.com/v2/projects/$PROJECT/locations/$REGION/jobs/$JOB_NAME:run"
  run gcloud scheduler jobs "$verb" http "$SCHEDULER_JOB" --project="$PROJECT" --location="$REGION" \
    --schedule="$SCHEDULE" --time-zone=Etc/UTC --uri="$JOB_URI" --http-method=POST \
    --oauth-service-account-email="$SA_EMAIL" \
    --description="Runs the Cloud Run job $JOB_NAME (zdlogs): one incremental pass over every tenant of the fleet"
}

fleet_summary() {
  local verb="Deployed"
  ((!DRY_RUN)) || verb="Dry run (nothing was changed) for"
  note "$verb the Cloud Run job $JOB_NAME in $PROJECT/$REGION: $TENANT_COUNT tenants over $TASKS tasks ($PARALLELISM at once, $PARALLEL tenants at once per task), run by $SCHEDULER_JOB on \"$SCHEDULE\" (UTC)."
  note "Run now: gcloud run jobs execute $JOB_NAME --project=$PROJECT --region=$REGION"
}

main_fleet() {
  validate_fleet_args
  SA_EMAIL="$SA_ID@$PROJECT.iam.gserviceaccount.com"
  export CLOUDSDK_CORE_DISABLE_PROMPTS=1
  trap 'on_error $?' ERR
  STEP="enable APIs"
  run gcloud services enable "${FLEET_APIS[@]}" --project="$PROJECT"
  discover_fleet
  ensure_fleet_account
  ensure_fleet_secrets
  deploy_fleet_job
  ensure_fleet_schedule
  fleet_summary
}

main() {
  parse_args "$@"
  if [[ -n $FLEET_FILE ]]; then
    main_fleet
    return 0
  fi
  validate_args
  derive_names
  export CLOUDSDK_CORE_DISABLE_PROMPTS=1
  trap 'on_error $?' ERR
  stage_source
  enable_apis
  discover
  ensure_bucket
  ensure_service_account
  ensure_import_role
  ensure_secret
  ensure_topic
  deploy_function
  ensure_scheduler_job
  if ((CREATE_FEED)); then ensure_feeds; else grant_secops; fi
  summary
}

main "$@"
