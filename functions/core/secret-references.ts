/** `${NAME}` references in a recipe, matched as DataHub's executor does (`\$\{(\w+)\}`). */
const SECRET_REFERENCE = /\$\{(\w+)\}/g;

export function findSecretReferences(recipe: string): string[] {
  const names = new Set<string>();
  for (const match of recipe.matchAll(SECRET_REFERENCE)) {
    const name = match[1];
    if (name !== undefined) names.add(name);
  }
  return [...names].sort();
}
