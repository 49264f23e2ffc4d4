// TypeDoc plugin (typedoc.json `plugin`): every top-level export of every module has a
// description, so no page of the API docs is a bare signature. TypeDoc's own `notDocumented`
// validation misses type aliases of inferred types (`type ServiceInstance = z.output<…>`) and
// flags zod's inner object members, which nobody reads; this checks what a reader sees first.
// A warning, which `treatWarningsAsErrors` turns into a failed `npm run docs`.
import { Application, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Comment | undefined} comment */
const hasSummary = (comment) => comment?.summary.some((part) => part.text.trim() !== '') === true;

/** @param {import('typedoc').DeclarationReflection} reflection */
function described(reflection) {
  return (
    hasSummary(reflection.comment) ||
    (reflection.signatures ?? []).some((s) => hasSummary(s.comment)) ||
    hasSummary(reflection.getSignature?.comment)
  );
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    for (const module of project.getChildrenByKind(ReflectionKind.Module)) {
      for (const child of module.children ?? []) {
        // A re-export of something another module documents renders as a link to it.
        if (child.kindOf(ReflectionKind.Reference) || described(child)) continue;
        app.logger.warn(
          `${module.name}: ${child.name} (${ReflectionKind.singularString(child.kind)}) has no description`,
        );
      }
    }
  });
}
