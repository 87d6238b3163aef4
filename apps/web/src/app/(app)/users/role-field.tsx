import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import type { Role } from "@/lib/viewer";
import { ROLE_HINT, ROLES } from "./roles";

/** One option per role, the least first. */
export function RoleOptions() {
  return ROLES.map((r) => <option key={r} value={r}>{r}</option>);
}

/** The role a new user or token gets, with what that role may do under it. */
export function RoleField({ value, onChange, error }: { value: Role; onChange: (role: Role) => void; error: string | undefined }) {
  return (
    <Field label="Role" error={error} hint={ROLE_HINT[value]}>
      <Select value={value} onChange={(e) => onChange(e.target.value as Role)}>
        <RoleOptions />
      </Select>
    </Field>
  );
}
