import { Box, Text } from 'ink';
import { Spinner } from './Spinner.js';
import { TextField } from './TextField.js';

export interface FormFieldProps {
  label: string;
  value: string;
  placeholder: string;
  onChange: (value: string) => void;
  focused: boolean;
  /** Keys reach the field only while the whole form is active. */
  active: boolean;
  /** Shown under the field, in red. */
  message?: string;
  labelWidth: number;
  fieldWidth: number;
}

/** One labelled text field of a form, with the focus marker and its own error line. */
export function FormField({ label, value, placeholder, onChange, focused, active, message, labelWidth, fieldWidth }: FormFieldProps) {
  return (
    <Box flexDirection="column">
      <Box>
        <Text color={focused ? 'cyan' : undefined} bold={focused}>
          {`${focused ? '›' : ' '} ${label}`.padEnd(labelWidth)}
        </Text>
        <TextField value={value} placeholder={placeholder} focus={active && focused} width={fieldWidth} onChange={onChange} />
      </Box>
      {message !== undefined && (
        <Box marginLeft={labelWidth}>
          <Text color="red">{message}</Text>
        </Box>
      )}
    </Box>
  );
}

export interface FormFooterProps {
  /** What the server said when it refused. */
  error?: string;
  busy: boolean;
  busyLabel: string;
  buttonLabel: string;
  focused: boolean;
}

/** A form's refusal line and its submit button (a spinner while the request is in flight). */
export function FormFooter({ error, busy, busyLabel, buttonLabel, focused }: FormFooterProps) {
  return (
    <>
      {error !== undefined && (
        <Box marginTop={1}>
          <Text color="red">{`✘ ${error}`}</Text>
        </Box>
      )}
      <Box marginTop={1}>
        {busy ? (
          <Spinner label={busyLabel} />
        ) : (
          <Text>
            <Text color="cyan" bold>
              {focused ? '› ' : '  '}
            </Text>
            <Text color={focused ? 'cyan' : undefined} bold={focused} inverse={focused}>
              {` ${buttonLabel} `}
            </Text>
          </Text>
        )}
      </Box>
    </>
  );
}
