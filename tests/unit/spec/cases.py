"""Small compose projects compared with Docker Compose v2 (``config`` JSON, YAML and ``--hash``).

Each case: name, files (relative path -> text), global CLI arguments, extra environment.
Broad regression cases for the spec layer; the differential corpus lives in tests/corpus/.
"""

from __future__ import annotations

CASES: list[tuple[str, dict[str, str], list[str], dict[str, str]]] = [('override_file',
  {'compose.yaml': "services:\n  web:\n    image: a\n    ports: ['80:80']\n    environment: {A: 1}\n",
   'compose.override.yaml': 'services:\n'
                            '  web:\n'
                            "    ports: ['81:81']\n"
                            '    environment: {B: 2}\n'
                            '    command: x\n'},
  [],
  {}),
 ('multi_f',
  {'compose.yaml': 'services:\n  web:\n    image: a\n    labels: {a: 1}\n',
   'b.yaml': 'services:\n  web:\n    image: b\n    labels: [b=2]\n'},
  ['-f', 'compose.yaml', '-f', 'b.yaml'],
  {}),
 ('name_top', {'compose.yaml': 'name: My_Proj\nservices:\n  web:\n    image: a\n'}, [], {}),
 ('name_p', {'compose.yaml': 'services:\n  web:\n    image: a\n'}, ['-p', 'other'], {}),
 ('env_compose_project',
  {'compose.yaml': 'services:\n  web:\n    image: a\n'},
  [],
  {'COMPOSE_PROJECT_NAME': 'fromenv'}),
 ('dotenv_interp',
  {'compose.yaml': 'services:\n'
                   '  web:\n'
                   '    image: ${IMG}:${TAG:-latest}\n'
                   '    environment:\n'
                   '      - X=${X}\n'
                   '      - Y\n',
   '.env': "IMG=nginx\nX='q $$'\nY=fromenv\n"},
  [],
  {}),
 ('env_file_forms',
  {'compose.yaml': 'services:\n'
                   '  web:\n'
                   '    image: a\n'
                   '    env_file:\n'
                   '      - a.env\n'
                   '      - path: b.env\n'
                   '        required: false\n'
                   '    environment: {A: override}\n',
   'a.env': 'A=1\nB=2\n'},
  [],
  {}),
 ('env_file_missing', {'compose.yaml': 'services:\n  web:\n    image: a\n    env_file: nope.env\n'}, [], {}),
 ('extends_chain',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    environment: [A=1]\n'
                   '  b:\n'
                   '    extends: a\n'
                   '    environment: [B=2]\n'
                   '  c:\n'
                   '    extends: {service: b}\n'
                   '    environment: [C=3]\n'},
  [],
  {}),
 ('extends_cycle',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    extends: b\n  b:\n    image: b\n    extends: a\n'},
  [],
  {}),
 ('profiles_star',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    profiles: [x]\n  b:\n    image: b\n'},
  ['--profile', '*'],
  {}),
 ('compose_profiles_env',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    profiles: [x]\n  b:\n    image: b\n'},
  [],
  {'COMPOSE_PROFILES': 'x'}),
 ('override_tag',
  {'compose.yaml': "services:\n  web:\n    image: a\n    ports: ['80:80']\n",
   'compose.override.yaml': "services:\n  web:\n    ports: !override ['81:81']\n"},
  [],
  {}),
 ('reset_tag',
  {'compose.yaml': "services:\n  web:\n    image: a\n    ports: ['80:80']\n    environment: [A=1]\n",
   'compose.override.yaml': 'services:\n  web:\n    ports: !reset []\n    environment: !reset {}\n'},
  [],
  {}),
 ('secrets_configs',
  {'compose.yaml': 'services:\n'
                   '  web:\n'
                   '    image: a\n'
                   '    secrets: [s, {source: t, target: /x, mode: 0400}]\n'
                   '    configs: [c]\n'
                   'secrets:\n'
                   '  s: {file: ./s}\n'
                   '  t: {environment: HOME}\n'
                   'configs:\n'
                   '  c: {file: ./c.txt}\n'},
  [],
  {}),
 ('ext_network_old',
  {'compose.yaml': 'services:\n'
                   '  web:\n'
                   '    image: a\n'
                   '    networks: [n]\n'
                   'networks:\n'
                   '  n:\n'
                   '    external:\n'
                   '      name: real\n'},
  [],
  {}),
 ('ipam',
  {'compose.yaml': 'services:\n'
                   '  web:\n'
                   '    image: a\n'
                   '    networks:\n'
                   '      n:\n'
                   '        ipv4_address: 10.0.0.5\n'
                   'networks:\n'
                   '  n:\n'
                   '    ipam:\n'
                   '      driver: default\n'
                   '      config:\n'
                   '        - subnet: 10.0.0.0/24\n'
                   '          gateway: 10.0.0.1\n'},
  [],
  {}),
 ('build_long',
  {'compose.yaml': 'services:\n'
                   '  web:\n'
                   '    build:\n'
                   '      context: ./app\n'
                   '      dockerfile: Dockerfile.dev\n'
                   '      args: [A=1, B]\n'
                   '      target: dev\n'
                   '      labels: {x: y}\n'
                   '      cache_from: [a]\n'},
  [],
  {'B': 'bee'}),
 ('build_inline',
  {'compose.yaml': 'services:\n'
                   '  web:\n'
                   '    build:\n'
                   '      context: .\n'
                   '      dockerfile_inline: |\n'
                   '        FROM scratch\n'},
  [],
  {}),
 ('healthcheck_forms',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    healthcheck:\n'
                   '      test: ["CMD-SHELL", "x"]\n'
                   '      start_interval: 5s\n'
                   '      retries: 0\n'
                   '  b:\n'
                   '    image: b\n'
                   '    healthcheck:\n'
                   '      disable: true\n'
                   '  c:\n'
                   '    image: c\n'
                   '    healthcheck:\n'
                   '      test: [NONE]\n'},
  [],
  {}),
 ('command_forms',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    command: []\n'
                   "    entrypoint: ''\n"
                   '  b:\n'
                   '    image: b\n'
                   '    command: ["sh", "-c", "echo $$HOME"]\n'
                   '  c:\n'
                   '    image: c\n'
                   "    command: sh -c 'echo a && echo b'\n"},
  [],
  {}),
 ('ports_forms',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    ports:\n'
                   '      - 3000\n'
                   '      - 3000-3005\n'
                   "      - '9090-9091:8080-8081'\n"
                   "      - '49100:22'\n"
                   "      - '[::1]:6001:6001'\n"
                   "      - '127.0.0.1:5000-5010:5000'\n"
                   '      - target: 80\n'
                   '        host_ip: 0.0.0.0\n'
                   "        published: '8080'\n"
                   '        protocol: udp\n'
                   '        mode: host\n'
                   '        name: web\n'
                   '        app_protocol: http\n'},
  [],
  {}),
 ('volumes_forms',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    volumes:\n'
                   '      - /var/lib/x\n'
                   '      - /opt/data:/var/lib/y\n'
                   '      - ./cache:/tmp/cache:ro\n'
                   '      - ~/configs:/etc/configs/:ro,z\n'
                   '      - datavolume:/var/lib/mysql:nocopy\n'
                   '      - type: bind\n'
                   '        source: ./b\n'
                   '        target: /b\n'
                   '        bind: {propagation: rshared}\n'
                   '      - type: volume\n'
                   '        source: datavolume\n'
                   '        target: /c\n'
                   '        volume: {nocopy: true, subpath: sub}\n'
                   '      - type: tmpfs\n'
                   '        target: /t\n'
                   '        tmpfs: {size: 10m, mode: 1777}\n'
                   'volumes:\n'
                   '  datavolume: {}\n'},
  [],
  {}),
 ('deploy_resources',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    deploy:\n'
                   '      replicas: 3\n'
                   '      resources:\n'
                   "        limits: {cpus: '0.50', memory: 50M, pids: 10}\n"
                   '        reservations:\n'
                   '          devices:\n'
                   '            - capabilities: [gpu]\n'
                   '      update_config: {parallelism: 2, delay: 10s, order: stop-first}\n'
                   '      labels: [a=b]\n'},
  [],
  {}),
 ('misc_fields',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    cap_add: [ALL]\n'
                   '    cap_drop: [NET_ADMIN]\n'
                   '    container_name: c\n'
                   '    hostname: h\n'
                   '    domainname: d\n'
                   '    ipc: host\n'
                   '    pid: host\n'
                   '    init: true\n'
                   '    stdin_open: true\n'
                   '    tty: true\n'
                   '    stop_signal: SIGUSR1\n'
                   '    security_opt: [label:user:USER]\n'
                   '    sysctls: [net.core.somaxconn=1024]\n'
                   '    tmpfs: [/run, /tmp:size=64m]\n'
                   '    ulimits: {nofile: 1024}\n'
                   '    group_add: [mail]\n'
                   "    devices: ['/dev/ttyUSB0:/dev/ttyUSB0']\n"
                   '    platform: linux/amd64\n'
                   '    pull_policy: if_not_present\n'
                   "    logging: {driver: syslog, options: {syslog-address: 'tcp://1.2.3.4:123'}}\n"
                   "    extra_hosts: {somehost: 162.242.195.82, other: '::1'}\n"
                   '    dns_search: example.com\n'
                   '    oom_score_adj: -500\n'
                   '    pids_limit: 10\n'
                   '    shm_size: 64M\n'
                   '    memswap_limit: 1g\n'
                   '    mem_swappiness: 10\n'
                   '    cpu_count: 2\n'
                   '    cpuset: 0-1\n'
                   '    userns_mode: host\n'
                   '    runtime: runc\n'
                   '    working_dir: /w\n'
                   '    user: 1000:1000\n'
                   "    expose: ['3000-3005']\n"
                   '    annotations: {com.example.foo: bar}\n'
                   '    stop_grace_period: 1m\n'
                   '    scale: 1\n'},
  [],
  {}),
 ('network_mode_service',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    network_mode: service:b\n'
                   '  b:\n'
                   '    image: b\n'
                   '    volumes_from: [c:ro, container:x]\n'
                   '  c:\n'
                   '    image: c\n'
                   '    ipc: service:b\n'},
  [],
  {}),
 ('anchors_x',
  {'compose.yaml': 'x-env: &env\n'
                   '  A: 1\n'
                   'x-svc: &svc\n'
                   '  image: base\n'
                   '  environment: *env\n'
                   'services:\n'
                   '  a:\n'
                   '    <<: *svc\n'
                   '  b:\n'
                   '    <<: *svc\n'
                   '    image: other\n'},
  [],
  {}),
 ('include_long',
  {'compose.yaml': 'include:\n'
                   '  - path: [lib/a.yaml, lib/b.yaml]\n'
                   '    env_file: lib/x.env\n'
                   '    project_directory: lib\n'
                   'services:\n'
                   '  web:\n'
                   '    image: w\n',
   'lib/a.yaml': 'services:\n  db:\n    image: ${DB}\n    volumes: [./d:/d]\n',
   'lib/b.yaml': 'services:\n  db:\n    environment: [A=1]\n',
   'lib/x.env': 'DB=pg\n'},
  [],
  {}),
 ('interp_forms',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: "${UNSET-def}${EMPTY:-e}${SET:+plus}${SET+p2}${EMPTY-notused}"\n'
                   '    environment:\n'
                   '      N: ${UNSET_NESTED:-${SET}}\n'
                   '      ESC: $$notvar\n'
                   '      T: ${SET}\n'},
  [],
  {'SET': 's', 'EMPTY': ''}),
 ('required_unset', {'compose.yaml': 'services:\n  a:\n    image: ${NOPE?you must set NOPE}\n'}, [], {}),
 ('empty_service_ok', {'compose.yaml': 'services:\n  a:\n    image: a\n    environment:\n'}, [], {}),
 ('numeric_keys',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    labels:\n'
                   '      1: one\n'
                   '      true: yes\n'
                   '    environment:\n'
                   '      X: 1.50\n'
                   '      Y: 1e3\n'
                   '      Z: 0x10\n'},
  [],
  {}),
 ('version_obsolete', {'compose.yaml': "version: '3.8'\nservices:\n  a:\n    image: a\n"}, [], {}),
 ('models_top', {'compose.yaml': 'services:\n  a:\n    image: a\n    gpus: all\n'}, [], {}),
 ('depends_on_long',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    depends_on:\n'
                   '      b:\n'
                   '        condition: service_completed_successfully\n'
                   '        required: false\n'
                   '      c:\n'
                   '        condition: service_healthy\n'
                   '        restart: true\n'
                   '  b:\n'
                   '    image: b\n'
                   '  c:\n'
                   '    image: c\n'
                   '    links: [b]\n'},
  [],
  {}),
 ('depends_disabled_optional',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    depends_on:\n'
                   '      b: {condition: service_started, required: false}\n'
                   '  b:\n'
                   '    image: b\n'
                   '    profiles: [p]\n'},
  [],
  {}),
 ('stdin_compose_file', {'compose.yaml': 'services:\n  a:\n    image: a\n'}, ['-f', 'compose.yaml'], {}),
 ('merge_volumes_target',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   "    volumes: ['./x:/data', 'v:/other']\n"
                   'volumes:\n'
                   '  v: {}\n',
   'compose.override.yaml': "services:\n  a:\n    volumes: ['./y:/data']\n"},
  [],
  {}),
 ('merge_depends_mixed',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    depends_on: [b]\n'
                   '  b:\n'
                   '    image: b\n'
                   '  c:\n'
                   '    image: c\n',
   'compose.override.yaml': 'services:\n  a:\n    depends_on:\n      c: {condition: service_started}\n'},
  [],
  {}),
 ('merge_labels_list_map',
  {'compose.yaml': "services:\n  a:\n    image: a\n    labels: {x: '1', y: '2'}\n",
   'compose.override.yaml': 'services:\n  a:\n    labels: [y=3, z=4]\n'},
  [],
  {}),
 ('merge_networks_list_map',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    networks: [n1]\nnetworks:\n  n1: {}\n  n2: {}\n',
   'compose.override.yaml': 'services:\n  a:\n    networks:\n      n2: {aliases: [q]}\n'},
  [],
  {}),
 ('merge_command_entrypoint',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    command: [a, b]\n    entrypoint: x\n',
   'compose.override.yaml': 'services:\n  a:\n    command: c d\n'},
  [],
  {}),
 ('merge_healthcheck',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    healthcheck: {test: [CMD, a], interval: 5s}\n',
   'compose.override.yaml': 'services:\n  a:\n    healthcheck: {test: b}\n'},
  [],
  {}),
 ('merge_logging',
  {'compose.yaml': "services:\n  a:\n    image: a\n    logging: {driver: json-file, options: {a: '1'}}\n",
   'compose.override.yaml': "services:\n  a:\n    logging: {driver: syslog, options: {b: '2'}}\n"},
  [],
  {}),
 ('merge_ulimits',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    ulimits: {nofile: {soft: 1, hard: 2}, nproc: 3}\n',
   'compose.override.yaml': 'services:\n  a:\n    ulimits: {nofile: {soft: 5, hard: 6}}\n'},
  [],
  {}),
 ('merge_extra_hosts',
  {'compose.yaml': "services:\n  a:\n    image: a\n    extra_hosts: ['h1:1.1.1.1']\n",
   'compose.override.yaml': "services:\n  a:\n    extra_hosts: ['h1:1.1.1.1', 'h2=2.2.2.2']\n"},
  [],
  {}),
 ('merge_ports_dupe',
  {'compose.yaml': "services:\n  a:\n    image: a\n    ports: ['80:80']\n",
   'compose.override.yaml': "services:\n  a:\n    ports: ['80:80', '90:90']\n"},
  [],
  {}),
 ('compose_file_env',
  {'compose.yaml': 'services:\n  a:\n    image: a\n', 'other.yaml': 'services:\n  b:\n    image: b\n'},
  [],
  {'COMPOSE_FILE': 'compose.yaml:other.yaml'}),
 ('project_directory',
  {'compose.yaml': "services:\n  a:\n    build: .\n    volumes: ['./x:/x']\n", 'sub/.env': 'A=1\n'},
  ['--project-directory', 'sub'],
  {}),
 ('env_file_flag',
  {'compose.yaml': 'services:\n  a:\n    image: ${I}\n', 'e1.env': 'I=one\n', 'e2.env': 'I=two\n'},
  ['--env-file', 'e1.env', '--env-file', 'e2.env'],
  {}),
 ('label_file',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    label_file: ./l.labels\n    labels: {own: x}\n',
   'l.labels': 'fromfile=1\nown=y\n'},
  [],
  {}),
 ('develop_watch',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    build: .\n'
                   '    develop:\n'
                   '      watch:\n'
                   '        - action: sync\n'
                   '          path: ./src\n'
                   '          target: /app/src\n'
                   '          ignore: node_modules/\n'
                   '        - action: rebuild\n'
                   '          path: package.json\n'},
  [],
  {}),
 ('multi_doc',
  {'compose.yaml': 'services:\n  a:\n    image: a\n---\nservices:\n  b:\n    image: b\n'},
  [],
  {}),
 ('service_x_ext',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    x-custom: {k: v}\n'
                   '    networks:\n'
                   '      default:\n'
                   '        x-n: 1\n'},
  [],
  {}),
 ('networks_null_default',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   'networks:\n'
                   '  default:\n'
                   '    name: mynet\n'
                   '    driver: bridge\n'},
  [],
  {}),
 ('network_external_default',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   'networks:\n'
                   '  default:\n'
                   '    external: true\n'
                   '    name: host_net\n'},
  [],
  {}),
 ('extends_file_build',
  {'compose.yaml': 'services:\n  a:\n    extends: {file: base/b.yaml, service: base}\n',
   'base/b.yaml': 'services:\n'
                  '  base:\n'
                  '    build: ./ctx\n'
                  '    env_file: [./e.env]\n'
                  "    volumes: ['./data:/data']\n",
   'base/e.env': 'E=1\n'},
  [],
  {}),
 ('include_string_env',
  {'compose.yaml': 'include:\n  - inc/compose.yaml\nservices:\n  w:\n    image: w\n    depends_on: [db]\n',
   'inc/compose.yaml': 'services:\n  db:\n    image: ${V:-d}\n    env_file: db.env\n',
   'inc/db.env': 'P=1\n',
   'inc/.env': 'V=fromincenv\n'},
  [],
  {}),
 ('restart_policies',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    restart: unless-stopped\n'
                   '    deploy:\n'
                   '      restart_policy: {condition: any, max_attempts: 3, window: 2m}\n'},
  [],
  {}),
 ('environment_list_dupes',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    environment: [A=1, A=2, B=]\n'},
  [],
  {}),
 ('long_syntax_ports_published_int',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    ports:\n'
                   '      - target: 80\n'
                   '        published: 8080\n'
                   "      - target: '81'\n"
                   '        published: 9000-9001\n'},
  [],
  {}),
 ('blkio_cpu',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    cpus: 1.5\n'
                   '    blkio_config: {weight_device: [{path: /dev/sda, weight: 400}]}\n'
                   '    cpu_percent: 50\n'
                   '    cpu_period: 100000\n'
                   '    cpu_quota: 50000\n'
                   '    cpu_rt_runtime: 10\n'
                   '    mem_limit: 1073741824\n'
                   '    blkio_config:\n'
                   '      weight: 300\n'
                   '      device_read_bps: [{path: /dev/sda, rate: 12mb}]\n'},
  [],
  {}),
 ('tmpfs_str',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    tmpfs: /run\n'
                   '    dns: [1.1.1.1, 8.8.8.8]\n'
                   '    dns_opt: [use-vc]\n'},
  [],
  {}),
 ('secret_target_rel',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    secrets:\n'
                   '      - source: s\n'
                   '        target: rel\n'
                   "        uid: '103'\n"
                   '        mode: 0440\n'
                   'secrets:\n'
                   '  s:\n'
                   '    file: ./s.txt\n'},
  [],
  {}),
 ('volume_external',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    volumes: [ext:/x, named:/y]\n'
                   'volumes:\n'
                   '  ext: {external: true}\n'
                   '  named: {name: custom-name, labels: {a: b}, driver: local, driver_opts: {type: none, o: '
                   'bind, device: ./dev}}\n'},
  [],
  {}),
 ('hostname_domain_mac',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    mac_address: 02:42:ac:11:65:43\n'
                   '    networks:\n'
                   '      n:\n'
                   '        ipv4_address: 172.16.238.10\n'
                   '        priority: 1000\n'
                   '        link_local_ips: [57.123.22.11]\n'
                   '        interface_name: eth5\n'
                   'networks:\n'
                   '  n:\n'
                   '    enable_ipv6: true\n'
                   '    internal: true\n'
                   '    attachable: true\n'
                   '    driver_opts: {com.docker.network.bridge.name: br0}\n'},
  [],
  {}),
 ('empty_file', {'compose.yaml': ''}, [], {}),
 ('services_null', {'compose.yaml': 'services:\n  a:\n'}, [], {}),
 ('stop_grace_int',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    stop_grace_period: 30\n'
                   '    healthcheck: {test: x, interval: 1h30m, timeout: 100ms, start_period: 0s}\n'},
  [],
  {}),
 ('pull_policy_build',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    build: {context: ., args: {X: 1, Y: null}}\n'
                   '    pull_policy: build\n'},
  [],
  {'Y': 'why'}),
 ('bad_port_proto', {'compose.yaml': "services:\n  a:\n    image: a\n    ports: ['80/xyz']\n"}, [], {}),
 ('bad_port_range_mismatch',
  {'compose.yaml': "services:\n  a:\n    image: a\n    ports: ['8000-8002:80-81']\n"},
  [],
  {}),
 ('bad_port_text', {'compose.yaml': "services:\n  a:\n    image: a\n    ports: ['abc']\n"}, [], {}),
 ('bad_port_too_many', {'compose.yaml': "services:\n  a:\n    image: a\n    ports: ['1:2:3:4']\n"}, [], {}),
 ('bad_volume_colons', {'compose.yaml': "services:\n  a:\n    image: a\n    volumes: ['a:b:c:d']\n"}, [], {}),
 ('bad_volume_empty', {'compose.yaml': "services:\n  a:\n    image: a\n    volumes: ['']\n"}, [], {}),
 ('bad_mem', {'compose.yaml': 'services:\n  a:\n    image: a\n    mem_limit: lots\n'}, [], {}),
 ('bad_duration', {'compose.yaml': 'services:\n  a:\n    image: a\n    stop_grace_period: soon\n'}, [], {}),
 ('bad_restart_type', {'compose.yaml': 'services:\n  a:\n    image: a\n    restart: 5\n'}, [], {}),
 ('bad_top_key', {'compose.yaml': 'servics:\n  a:\n    image: a\n'}, [], {}),
 ('bad_service_name', {'compose.yaml': "services:\n  'a b':\n    image: a\n"}, [], {}),
 ('bad_depends_condition',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    depends_on:\n'
                   '      b: {condition: service_up}\n'
                   '  b:\n'
                   '    image: b\n'},
  [],
  {}),
 ('links_unknown', {'compose.yaml': 'services:\n  a:\n    image: a\n    links: [zzz]\n'}, [], {}),
 ('volumes_from_unknown',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    volumes_from: [zzz]\n'},
  [],
  {}),
 ('extends_unknown', {'compose.yaml': 'services:\n  a:\n    extends: zzz\n'}, [], {}),
 ('extends_file_missing',
  {'compose.yaml': 'services:\n  a:\n    extends: {file: nope.yaml, service: x}\n'},
  [],
  {}),
 ('secret_undefined', {'compose.yaml': 'services:\n  a:\n    image: a\n    secrets: [nope]\n'}, [], {}),
 ('config_undefined', {'compose.yaml': 'services:\n  a:\n    image: a\n    configs: [nope]\n'}, [], {}),
 ('secret_no_source',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    secrets: [s]\nsecrets:\n  s: {}\n'},
  [],
  {}),
 ('bad_interp_syntax', {'compose.yaml': 'services:\n  a:\n    image: ${A\n'}, [], {}),
 ('bad_interp_name', {'compose.yaml': 'services:\n  a:\n    image: ${1A}\n'}, [], {}),
 ('bad_bool_cast', {'compose.yaml': 'services:\n  a:\n    image: a\n    tty: ${T}\n'}, [], {'T': 'maybe'}),
 ('bad_yaml_tab', {'compose.yaml': 'services:\n\ta:\n    image: a\n'}, [], {}),
 ('top_not_mapping', {'compose.yaml': '- a\n- b\n'}, [], {}),
 ('scale_negative', {'compose.yaml': 'services:\n  a:\n    image: a\n    scale: -1\n'}, [], {}),
 ('scale_replicas_conflict',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    scale: 2\n    deploy: {replicas: 3}\n'},
  [],
  {}),
 ('healthcheck_bad_test',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    healthcheck: {test: [FOO, x]}\n'},
  [],
  {}),
 ('mount_dupe', {'compose.yaml': "services:\n  a:\n    image: a\n    volumes: ['/x', './y:/x']\n"}, [], {}),
 ('tmpfs_volume_dupe',
  {'compose.yaml': "services:\n  a:\n    image: a\n    tmpfs: [/x]\n    volumes: ['./y:/x']\n"},
  [],
  {}),
 ('include_cycle',
  {'compose.yaml': 'include: [b.yaml]\nservices:\n  a:\n    image: a\n',
   'b.yaml': 'include: [compose.yaml]\nservices:\n  b:\n    image: b\n'},
  [],
  {}),
 ('include_conflict',
  {'compose.yaml': 'include: [b.yaml]\nservices:\n  a:\n    image: a\n',
   'b.yaml': 'services:\n  a:\n    image: b\n'},
  [],
  {}),
 ('project_name_bad', {'compose.yaml': 'services:\n  a:\n    image: a\n'}, ['-p', 'Bad Name'], {}),
 ('env_list_bad_type',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    environment: [{A: 1}]\n'},
  [],
  {}),
 ('build_and_dockerfile_inline',
  {'compose.yaml': 'services:\n  a:\n    build: {context: ., dockerfile: D, dockerfile_inline: FROM x}\n'},
  [],
  {}),
 ('network_mode_unknown_service',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    network_mode: service:zzz\n'},
  [],
  {}),
 ('unknown_volume_type',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    volumes: [{type: weird, target: /x}]\n'},
  [],
  {}),
 ('long_volume_no_target',
  {'compose.yaml': 'services:\n'
                   '  a:\n'
                   '    image: a\n'
                   '    volumes: [{type: volume, source: v}]\n'
                   'volumes:\n'
                   '  v: {}\n'},
  [],
  {}),
 ('ulimit_missing_hard',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    ulimits: {nofile: {soft: 1}}\n'},
  [],
  {}),
 ('x_ext_toplevel_ok', {'compose.yaml': 'x-a: 1\nservices:\n  a:\n    image: a\n    x-b: 2\n'}, [], {}),
 ('dup_service_across_include_same',
  {'compose.yaml': 'include: [b.yaml]\nservices:\n  c:\n    image: c\n',
   'b.yaml': 'services:\n  a:\n    image: b\n'},
  [],
  {}),
 ('env_file_raw_format',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    env_file:\n      - path: r.env\n        format: raw\n',
   'r.env': 'A="quoted $HOME"\nB=x # not comment\n'},
  [],
  {}),
 ('selection_deps_and_json_order',
  {'compose.yaml': 'services:\n  svc10:\n    image: a\n    depends_on: [svc9]\n  svc9:\n    image: b\n'
                   '    labels: {b: "<&>", a: "1"}\n'},
  [],
  {}),
 ('yaml_quoting_and_blocks',
  {'compose.yaml': 'services:\n  a:\n    image: a\n    command: ["sh", "-c", "echo a\\n- b\\necho c\\n"]\n    entrypoint: ["x", "multi\\n  indented\\nend"]\n    configs: [c]\n    labels: {k: "a: b", q: "it\'s", h: "#x", e: "", s: " lead"}\nconfigs:\n  c:\n    content: |\n      line1\n      - line2\n'},
  [],
  {})]

# Where we differ on purpose: none ("a:b:c:d" is read as compose-go reads it: a one-letter field
# before ":" is a Windows drive in every field, so source "a:b", target "c:d").
DIFFERENT_ON_PURPOSE: set[str] = set()
