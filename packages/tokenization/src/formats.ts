/** The text formats of the FiD reader and of the retriever (as in facebookresearch/FiD). */

/** FiD reader input for one passage: `question: {q} title: {title} context: {text}`. */
export function formatReaderInput(question: string, title: string, text: string): string {
  return `question: ${question} title: ${title} context: ${text}`;
}

/** Retriever passage text: `{title} {text}`. */
export function formatRetrieverPassage(title: string, text: string): string {
  return `${title} ${text}`;
}
