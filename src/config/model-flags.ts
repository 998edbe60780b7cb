/**
 * `--model <name=file.onnx>`: an ONNX file served with no config entry. A TypeScript or JavaScript module given there
 * would otherwise reach onnxruntime and fail as "Protobuf parsing failed" (issue 14); it is refused at once, with how
 * to serve it instead.
 */
import { ConfigError } from '../errors.js';
import type { ExtraModel } from './model-dir.js';

/** A module path, as a `class_path` would name it (`./model.ts`, `./model.mjs#Iris`). */
const CODE_MODULE = /\.([cm]?[jt]sx?)(#[^/\\]*)?$/i;

/**
 * The model entries of the `--model` flags, in order: `name=path` names the model, a bare path is named after its file.
 * Throws ConfigError (exit 2) for a flag that names a TypeScript or JavaScript module.
 */
export function modelFlagEntries(specs: readonly string[]): ExtraModel[] {
  return specs.map((spec) => {
    const at = spec.indexOf('=');
    const path = at > 0 ? spec.slice(at + 1) : spec;
    const code = CODE_MODULE.exec(path);
    if (code !== null) throw codeModuleError(spec, path.slice(0, code.index + 1 + (code[1] as string).length), code[2]?.slice(1) || 'YourModelClass');
    const entry: Record<string, unknown> = at > 0 ? { qualified_name: spec.slice(0, at), model_path: path } : { model_path: path };
    return { label: `--model ${spec}`, entry };
  });
}

/** `module` is the file alone (`./iris.ts`), `exportName` the class to name in the example entry. */
function codeModuleError(spec: string, module: string, exportName: string): ConfigError {
  const language = /\.[cm]?tsx?$/i.test(module) ? 'TypeScript' : 'JavaScript';
  // A class_path that does not start with ./, ../ or / names a package, so a bare file name gets ./ in the example.
  const classPath = `${/^(\.{1,2}[/\\]|[/\\]|[A-Za-z]:)/.test(module) ? module : `./${module}`}#${exportName}`;
  const problem =
    `--model takes an ONNX file (--model name=file.onnx, or --model file.onnx), and ${module} is a ${language} module. ` +
    `Serve a ${language} model from a config file: list it under models as 'class_path: ${classPath}' and pass ` +
    '--config FILE (longshore init writes a project with one)';
  return new ConfigError(`--model ${spec}: ${problem}`, { details: [{ path: `--model ${spec}`, message: problem }] });
}
