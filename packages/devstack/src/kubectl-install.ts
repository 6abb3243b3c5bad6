import { ensureAptExecutable } from './apt-install.ts';

/**
 * Returns the path of kubectl (only `kubectl kustomize` is used: offline rendering of
 * infra/k8s, no cluster), installing it with apt-get first when it is missing and we are root
 * (a fresh CI machine). Debian itself ships kubectl as `kubernetes-client`; a machine with the
 * Kubernetes or Google apt repository enabled has a `kubectl` package, preferred when present.
 */
export function ensureKubectl(log: (line: string) => void = console.log): string {
  return ensureAptExecutable({
    executable: 'kubectl',
    packages: ['kubectl', 'kubernetes-client'],
    manualFix: 'install it (Debian: sudo apt-get install -y kubernetes-client; elsewhere see kubernetes.io/docs/tasks/tools)',
    log,
  });
}
