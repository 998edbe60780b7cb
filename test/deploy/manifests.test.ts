/**
 * The manifests under deploy/, checked offline: every YAML document against the schema of its apiVersion/kind
 * (test/fixtures/k8s-schemas), unknown fields and kinds refused, and the manifests agreeing with longshore itself
 * (routes, ports, config, drain timing, metric names, the KServe runtime's arguments).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { postJson } from '../helpers/server.ts';
import { tempDir } from '../helpers/service.ts';
import { ROOT, DEPLOY, IRIS, IMAGE_ENV, FILES, DOCS, only, problemsOf, DEPLOYMENT, SERVICE, HPA, PDB, POD, CONTAINER, portNumber, flag, envOf, probes, mountedConfig, appFor, withServer, waitReady, type Json, type Any } from './manifest-harness.ts';

describe('deploy/: every YAML document is valid for its apiVersion and kind', () => {
  it('finds the expected documents', () => {
    const kinds = DOCS.map((doc) => `${doc.file}: ${String(doc.body.kind)}`).sort();
    assert.deepEqual(kinds, [
      'deploy/kserve/clusterservingruntime.yaml: ClusterServingRuntime',
      'deploy/kserve/inferenceservice.yaml: InferenceService',
      'deploy/kserve/servingruntime.yaml: ServingRuntime',
      'deploy/kubernetes/configmap.yaml: ConfigMap',
      'deploy/kubernetes/deployment.yaml: Deployment',
      'deploy/kubernetes/hpa.yaml: HorizontalPodAutoscaler',
      'deploy/kubernetes/kustomization.yaml: Kustomization',
      'deploy/kubernetes/pdb.yaml: PodDisruptionBudget',
      'deploy/kubernetes/service.yaml: Service',
    ]);
  });

  for (const doc of DOCS) {
    it(`${doc.file}#${doc.index} (${String(doc.body.kind)}) matches its schema`, () => {
      assert.deepEqual(problemsOf(doc.body), []);
    });
  }

  it('every file reads the same as YAML 1.1 and 1.2 (yes/no/on/off and the like are quoted)', () => {
    for (const file of FILES) {
      const text = readFileSync(file, 'utf8');
      const as12 = parseAllDocuments(text) as Any[];
      const as11 = parseAllDocuments(text, { version: '1.1' }) as Any[];
      assert.deepEqual(as11.map((doc) => doc.toJS()), as12.map((doc) => doc.toJS()), relative(ROOT, file));
    }
  });

  it('the ConfigMap\'s embedded longshore.yaml also reads the same as YAML 1.1 and 1.2', () => {
    const { text } = mountedConfig();
    assert.deepEqual(parseYaml(text, { version: '1.1' }), parseYaml(text));
  });
});

describe('the schema check catches mistakes (broken copies, in memory)', () => {
  const broken = (body: Json, edit: (copy: Any) => void): Json => {
    const copy = structuredClone(body) as Any;
    edit(copy);
    return copy;
  };

  it('a misspelled Deployment field deep in the pod spec', () => {
    const body = broken(DEPLOYMENT, (copy) => {
      const container = copy.spec.template.spec.containers[0];
      container.readinesProbe = container.readinessProbe;
      delete container.readinessProbe;
    });
    assert.ok(problemsOf(body).some((problem) => problem.includes("'readinesProbe'")), problemsOf(body).join('\n'));
  });

  it('a wrong type (a replica count or a Service port given as text)', () => {
    assert.notDeepEqual(problemsOf(broken(HPA, (copy) => (copy.spec.minReplicas = 'two'))), []);
    assert.notDeepEqual(problemsOf(broken(SERVICE, (copy) => (copy.spec.ports[0].port = '80'))), []);
  });

  it('a misspelled KServe field (the CRD schemas are closed by the test)', () => {
    const isvc = only('InferenceService');
    const body = broken(isvc, (copy) => {
      copy.spec.predictor.model.storageUrl = copy.spec.predictor.model.storageUri;
      delete copy.spec.predictor.model.storageUri;
    });
    assert.ok(problemsOf(body).some((problem) => problem.includes("'storageUrl'")), problemsOf(body).join('\n'));
    const runtime = broken(only('ClusterServingRuntime'), (copy) => (copy.spec.supportedModelFormat = copy.spec.supportedModelFormats));
    assert.ok(problemsOf(runtime).some((problem) => problem.includes("'supportedModelFormat'")));
  });

  it('an unknown kind or apiVersion', () => {
    assert.throws(() => problemsOf({ apiVersion: 'apps/v1', kind: 'StatefulSet' }), /unknown kind 'apps\/v1 StatefulSet'/);
    assert.throws(() => problemsOf({ ...DEPLOYMENT, apiVersion: 'apps/v1beta1' }), /unknown kind/);
  });
});

describe('deploy/kubernetes agrees with longshore', () => {
  it('the probes use paths longshore serves, on the container port', async () => {
    const { text } = mountedConfig();
    const app = await appFor(text);
    try {
      for (const [name, probe] of probes(CONTAINER)) {
        assert.ok(app.hasRoute({ method: 'GET', url: probe.httpGet.path }), `${name} ${probe.httpGet.path} is not a route of longshore`);
        assert.equal(portNumber(CONTAINER, probe.httpGet.port), CONTAINER.ports[0].containerPort, `${name} port`);
      }
      assert.deepEqual(probes(CONTAINER).map(([name, probe]) => [name, probe.httpGet.path]), [
        ['startupProbe', '/api/health/startup'],
        ['readinessProbe', '/api/health/ready'],
        ['livenessProbe', '/api/health'],
      ]);
      const annotations = DEPLOYMENT.spec.template.metadata.annotations;
      assert.equal(annotations['prometheus.io/scrape'], 'true');
      assert.ok(app.hasRoute({ method: 'GET', url: annotations['prometheus.io/path'] }), 'prometheus.io/path is a route of longshore');
      assert.equal(Number(annotations['prometheus.io/port']), CONTAINER.ports[0].containerPort);
    } finally {
      await app.close();
    }
  });

  it('container port = Service targetPort = the port longshore listens on, and longshore binds every interface', () => {
    const { loaded } = mountedConfig();
    const port = CONTAINER.ports[0];
    assert.equal(port.name, 'http');
    assert.equal(portNumber(CONTAINER, SERVICE.spec.ports[0].targetPort), port.containerPort);
    assert.equal(SERVICE.spec.ports[0].port, 80);
    // What longshore listens on: --port, else LONGSHORE_PORT (the container's, else the image's), else server.port.
    const env = { ...IMAGE_ENV, ...envOf(CONTAINER) };
    const listens = Number(flag(CONTAINER.args, '--port') ?? env.LONGSHORE_PORT ?? loaded.config.server.port);
    assert.equal(listens, port.containerPort);
    assert.equal(loaded.config.server.port, port.containerPort, 'server.port agrees too, so the config alone is not misleading');
    assert.equal(flag(CONTAINER.args, '--host') ?? env.LONGSHORE_HOST ?? loaded.config.server.host, '0.0.0.0');
    assert.equal(loaded.config.server.host, '0.0.0.0');
    // A Service named like the app would inject LONGSHORE_PORT=tcp://... into the pod; longshore reads that variable.
    assert.equal(POD.enableServiceLinks, false);
  });

  it('the Service, PDB and HPA select or target the Deployment\'s pods', () => {
    const labels = DEPLOYMENT.spec.template.metadata.labels;
    assert.deepEqual(DEPLOYMENT.spec.selector.matchLabels, labels);
    assert.deepEqual(SERVICE.spec.selector, labels);
    assert.deepEqual(PDB.spec.selector.matchLabels, labels);
    assert.deepEqual(HPA.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: DEPLOYMENT.metadata.name });
    assert.equal(DEPLOYMENT.spec.replicas, undefined, 'the HPA owns the replica count');
    assert.ok(HPA.spec.minReplicas >= 2, 'two pods at least, so the PDB lets a node drain proceed');
  });

  it('the ConfigMap\'s longshore.yaml is valid for longshore and its models are in the models volume', () => {
    const { loaded, dir } = mountedConfig();
    const models = loaded.config.models;
    assert.ok(models.length > 0);
    const mount = (CONTAINER.volumeMounts as Any[]).find((m) => m.name === 'models');
    assert.equal(mount.mountPath, '/models');
    assert.equal(mount.readOnly, true);
    for (const model of models) {
      assert.ok(model.runtime === 'onnx', 'an ONNX model');
      const path = resolve(dir, model.model_path);
      assert.ok(path.startsWith(`${mount.mountPath}/`), `${path} is under ${mount.mountPath}`);
    }
    assert.ok((POD.volumes as Any[]).some((v) => v.name === 'models' && (v.persistentVolumeClaim || v.image)));
  });

  it('terminationGracePeriodSeconds covers the preStop sleep, the drain delay and the longest request', () => {
    const { loaded } = mountedConfig();
    const preStop = CONTAINER.lifecycle?.preStop;
    const preStopSeconds: number = preStop?.sleep?.seconds ?? Number(/sleep (\d+)/.exec((preStop?.exec?.command ?? []).join(' '))?.[1] ?? 0);
    const drain = loaded.config.server.drain_delay_ms / 1000;
    assert.ok(drain >= 5, 'a drain delay at least as long as a readiness period, so endpoints are gone before the listener closes');
    const grace = POD.terminationGracePeriodSeconds as number;
    assert.ok(grace > drain + preStopSeconds, `${grace} s > ${drain} s drain + ${preStopSeconds} s preStop`);
    const timeouts = loaded.config.models.map((model) => (model.timeout_ms ?? loaded.config.defaults.timeout_ms ?? 60_000) / 1000);
    const longest = Math.max(...timeouts);
    assert.ok(longest > 0 && grace > drain + preStopSeconds + longest, `${grace} s > drain + preStop + the longest request (${longest} s)`);
  });

  it('the container runs locked down, as the image allows', () => {
    const security = CONTAINER.securityContext;
    assert.equal(security.runAsNonRoot, true);
    assert.equal(security.runAsUser, 1000);
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.deepEqual(security.capabilities.drop, ['ALL']);
    assert.equal(security.seccompProfile.type, 'RuntimeDefault');
    assert.ok(CONTAINER.resources.requests.cpu && CONTAINER.resources.limits.memory);
  });

  it('the HPA scales on CPU and on a queue-depth metric longshore exports', () => {
    const catalogue = readFileSync(join(ROOT, 'src/metrics/catalogue.ts'), 'utf8');
    const exported = new Set([...catalogue.matchAll(/name: '([a-z_]+)'|'(longshore_[a-z_]+)'/g)].map((match) => match[1] ?? match[2]));
    const pods = (HPA.spec.metrics as Any[]).filter((metric) => metric.type === 'Pods');
    assert.equal(pods.length, 1);
    const name = pods[0].pods.metric.name as string;
    assert.equal(name, 'longshore_queue_depth');
    assert.ok(exported.has(name), `${name} is a metric of src/metrics/catalogue.ts`);
    assert.ok(readFileSync(join(ROOT, 'docs/observability.md'), 'utf8').includes(`\`${name}\``), `${name} is documented`);
    assert.ok((HPA.spec.metrics as Any[]).some((metric) => metric.type === 'Resource' && metric.resource.name === 'cpu'));
    // The Prometheus adapter rule in hpa.yaml's comment exposes the metric under the same name.
    const hpaText = readFileSync(join(DEPLOY, 'kubernetes/hpa.yaml'), 'utf8');
    assert.match(hpaText, new RegExp(`seriesQuery: '${name}\\{`));
    assert.match(hpaText, new RegExp(`as: "${name}"`));
  });

  it('kustomization.yaml lists every other file of deploy/kubernetes, each once', () => {
    const kustomization = only('Kustomization');
    const files = readdirSync(join(DEPLOY, 'kubernetes')).filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml');
    assert.deepEqual([...(kustomization.resources as string[])].sort(), files.sort());
  });

  it('longshore serves the model with the ConfigMap\'s config and the Deployment\'s arguments', async () => {
    const { text, file } = mountedConfig();
    // The /config and /models mounts, in a temp directory.
    const root = tempDir();
    const models = join(root, 'models');
    mkdirSync(models);
    mkdirSync(join(root, 'config'));
    copyFileSync(IRIS, join(models, 'model.onnx'));
    const configFile = join(root, file);
    writeFileSync(configFile, text.replaceAll('/models/', `${models}/`));
    const args = (CONTAINER.args as string[]).map((arg) => (arg === file ? configFile : arg));
    const env = { ...IMAGE_ENV, ...envOf(CONTAINER), LONGSHORE_CONFIG: configFile };
    await withServer([...args, '--port', '0', '--host', '127.0.0.1'], env, async (url) => {
      await waitReady(`${url}/api/health/ready`);
      const listing = (await (await fetch(`${url}/api/models`)).json()) as { models: { qualified_name: string }[] };
      assert.deepEqual(listing.models.map((model) => model.qualified_name), ['model']);
    });
  });
});

describe('deploy/kserve agrees with KServe and with longshore', () => {
  const runtimes = [only('ClusterServingRuntime'), only('ServingRuntime')];

  it('ServingRuntime and ClusterServingRuntime have the same spec and name', () => {
    assert.deepEqual(runtimes[0].spec, runtimes[1].spec);
    assert.equal(runtimes[0].metadata.name, runtimes[1].metadata.name);
  });

  it('the runtime serves ONNX over V2 on 8080 from /mnt/models, named by {{.Name}}', async () => {
    const spec = runtimes[0].spec;
    assert.deepEqual(spec.supportedModelFormats, [{ name: 'onnx', version: '1', autoSelect: true }]);
    assert.deepEqual(spec.protocolVersions, ['v2']);
    const container = spec.containers[0];
    assert.equal(container.name, 'kserve-container');
    const args = container.args as string[];
    assert.equal(args[0], 'serve');
    assert.equal(flag(args, '--model-dir'), '/mnt/models');
    assert.equal(flag(args, '--model-name'), '{{.Name}}');
    assert.equal(flag(args, '--host'), '0.0.0.0');
    assert.equal(container.ports[0].containerPort, 8080);
    assert.ok(['http1', 'h2c', undefined].includes(container.ports[0].name), 'Knative accepts only http1 or h2c as port name');
    assert.equal(Number(flag(args, '--port')), 8080);
    assert.equal(Number(spec.annotations['prometheus.kserve.io/port']), 8080);
    const app = await appFor('');
    try {
      for (const [name, probe] of probes(container)) {
        assert.ok(app.hasRoute({ method: 'GET', url: probe.httpGet.path }), `${name} ${probe.httpGet.path} is a route of longshore`);
        assert.equal(portNumber(container, probe.httpGet.port), 8080);
      }
      assert.ok(app.hasRoute({ method: 'GET', url: spec.annotations['prometheus.kserve.io/path'] }));
      assert.ok(app.hasRoute({ method: 'POST', url: '/v2/models/:model_name/infer' }) || app.hasRoute({ method: 'POST', url: '/v2/models/:name/infer' }));
    } finally {
      await app.close();
    }
  });

  it('the InferenceService uses the runtime for an onnx model with a storageUri', () => {
    const model = only('InferenceService').spec.predictor.model;
    assert.equal(model.runtime, runtimes[0].metadata.name);
    assert.equal(model.modelFormat.name, 'onnx');
    assert.match(model.storageUri, /^[a-z0-9]+:\/\//);
  });

  for (const layout of ['model.onnx', 'iris/1/model.onnx']) {
    it(`longshore serves /mnt/models laid out as ${layout} with the runtime's arguments and environment`, async () => {
      const container = runtimes[0].spec.containers[0];
      const mnt = tempDir();
      mkdirSync(join(mnt, layout, '..'), { recursive: true });
      copyFileSync(IRIS, join(mnt, layout));
      const args = (container.args as string[]).map((arg) => (arg === '/mnt/models' ? mnt : arg === '{{.Name}}' ? 'iris' : arg === '0.0.0.0' ? '127.0.0.1' : arg));
      const portAt = args.indexOf('--port');
      args[portAt + 1] = '0';
      // No /config/longshore.yaml in a KServe pod: the runtime's env must undo the image's LONGSHORE_CONFIG.
      await withServer(args, { ...IMAGE_ENV, ...envOf(container) }, async (url) => {
        await waitReady(`${url}/v2/health/ready`);
        const response = await postJson<{ model_name: string; outputs: { name: string; data: number[] }[] }>(`${url}/v2/models/iris/infer`, {
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [7.0, 3.2, 4.7, 1.4] }],
        });
        assert.equal(response.status, 200);
        const { body } = response;
        assert.equal(body.model_name, 'iris');
        assert.deepEqual(body.outputs.find((output) => output.name === 'label')?.data, [1]);
      });
    });
  }
});
