// serverless.yml reads the stage's settings through ${file(...)}: osls loads .js/.cjs files with require, so
// this CommonJS shim hands over to the TypeScript schema (stage-config.ts), compiled on the fly by tsx.
const { require: requireTypeScript } = require("tsx/cjs/api");

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable("sls:stage");
  const { loadStackSettings } = requireTypeScript("./stage-config.ts", __filename);
  try {
    return loadStackSettings(stage, __dirname);
  } catch (error) {
    // osls prints error.stack: for a configuration mistake, the message naming the key is all that helps.
    if (error?.name === "StageConfigError") error.stack = `${error.name}: ${error.message}`;
    throw error;
  }
};
