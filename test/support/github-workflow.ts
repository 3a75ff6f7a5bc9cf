/**
 * GitHub's own workflow parser (@actions/workflow-parser, what the Actions language server runs):
 * the problems GitHub would report for a workflow file, or none.
 */
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';

export async function workflowProblems(text: string, name = 'workflow.yml'): Promise<string[]> {
  const parsed = parseWorkflow({ name, content: text }, new NoOperationTraceWriter());
  const problems = parsed.context.errors.getErrors().map((e) => e.message);
  if (problems.length || !parsed.value) return problems;
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  return (template.errors ?? []).map((e) => e.Message);
}
