//! A provider-neutral chat call and its reply.

use serde::{Deserialize, Serialize};

use crate::cost::Usage;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Role {
    /// Instructions; sent as each provider takes them (Anthropic's `system`, Gemini's
    /// `systemInstruction`).
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct Message {
    /// Its author.
    pub role: Role,
    /// Its text.
    pub content: String,
}

impl Message {
    /// A user message.
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A chat call, the same for every provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct ChatRequest {
    /// The model id (an alias is sent as given).
    pub model: String,
    /// A system prompt, sent before the messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub system: Option<String>,
    /// The conversation.
    pub messages: Vec<Message>,
    /// The most output tokens to generate. Anthropic requires one; 4096 is sent when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub temperature: Option<f64>,
    /// Stop sequences.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<String>>"))]
    pub stop: Vec<String>,
    /// Ask for a stream of server-sent events.
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<bool>"))]
    pub stream: bool,
}

impl ChatRequest {
    /// The system prompt and any system messages, joined by blank lines, for the providers that
    /// take instructions apart from the conversation (Anthropic, Gemini).
    pub fn system_text(&self) -> Option<String> {
        let parts: Vec<&str> = self
            .system
            .iter()
            .map(String::as_str)
            .chain(
                self.messages
                    .iter()
                    .filter(|m| m.role == Role::System)
                    .map(|m| m.content.as_str()),
            )
            .collect();
        (!parts.is_empty()).then(|| parts.join("\n\n"))
    }
}

/// Why the model stopped, in the same words for every provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The output token limit.
    Length,
    /// The model called a tool.
    ToolCalls,
    /// A safety or content filter.
    ContentFilter,
    /// Anything else the provider said.
    Other,
}

/// A non-streaming chat reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The generated text.
    pub text: String,
    /// Why it stopped, when the provider says.
    pub finish_reason: Option<FinishReason>,
    /// The model that served the call, as the provider names it (often a dated id).
    pub model: String,
    /// Token usage exactly as the provider reported it.
    pub usage: Usage,
}
