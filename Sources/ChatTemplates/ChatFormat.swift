/// Built-in chat formats (`--chat-format`), for models whose template is missing or unsupported.
///
/// Each is a small Jinja template rendered by the same interpreter; tests check that they produce
/// exactly what the corresponding published template produces under `transformers`.
public enum ChatFormat: String, CaseIterable, Sendable {
    /// LLaMA-3-Instruct: `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`.
    case llama3
    /// Mistral-Instruct (v0.1/v0.2 style): `<s> [INST] user [/INST] answer</s>`, system text
    /// prepended to the first user message.
    case mistral
    /// ChatML: `<|im_start|>role\ncontent<|im_end|>\n`.
    case chatml
    /// OpenChat-3.5: `GPT4 Correct User: ...<|end_of_turn|>GPT4 Correct Assistant:`.
    case openchat

    /// Looks a format up by name, with an error listing the choices.
    public static func named(_ name: String) throws(ChatTemplateError) -> ChatFormat {
        guard let f = ChatFormat(rawValue: name) else { throw .unknownChatFormat(name) }
        return f
    }

    /// The format's usual BOS and EOS tokens.
    public var defaultTokens: (bos: String, eos: String) {
        switch self {
        case .llama3: ("<|begin_of_text|>", "<|eot_id|>")
        case .mistral: ("<s>", "</s>")
        case .chatml: ("", "<|im_end|>")
        case .openchat: ("<s>", "<|end_of_turn|>")
        }
    }

    /// The format as a Jinja chat template.
    public var jinja: String {
        switch self {
        case .llama3:
            return """
                {{- bos_token }}
                {%- for message in messages %}
                    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}
                {%- endfor %}
                {%- if add_generation_prompt %}
                    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
                {%- endif %}
                """
        case .mistral:
            return """
                {%- if messages[0]['role'] == 'system' %}
                    {%- set system_message = messages[0]['content'] %}
                    {%- set loop_messages = messages[1:] %}
                {%- else %}
                    {%- set loop_messages = messages %}
                {%- endif %}
                {{- bos_token }}
                {%- for message in loop_messages %}
                    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
                        {{- raise_exception('after the optional system message, roles must alternate user/assistant/user/...') }}
                    {%- endif %}
                    {%- if message['role'] == 'user' %}
                        {%- if loop.first and system_message is defined %}
                            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
                        {%- else %}
                            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
                        {%- endif %}
                    {%- else %}
                        {{- ' ' + message['content'] + eos_token }}
                    {%- endif %}
                {%- endfor %}
                """
        case .chatml:
            return """
                {%- for message in messages %}
                    {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}
                {%- endfor %}
                {%- if add_generation_prompt %}
                    {{- '<|im_start|>assistant\\n' }}
                {%- endif %}
                """
        case .openchat:
            return """
                {{- bos_token }}
                {%- for message in messages %}
                    {{- 'GPT4 Correct ' + message['role'].title() + ': ' + message['content'] + '<|end_of_turn|>' }}
                {%- endfor %}
                {%- if add_generation_prompt %}
                    {{- 'GPT4 Correct Assistant:' }}
                {%- endif %}
                """
        }
    }

    /// The parsed template.
    public func template() throws(ChatTemplateError) -> ChatTemplate {
        try ChatTemplate(source: jinja, name: "built-in \(rawValue)")
    }
}
