export { leadWorkflow } from './lead-workflow.js';
