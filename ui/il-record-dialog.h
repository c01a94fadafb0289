/* il-record-dialog.h — what to record: program, arguments, folder, interpreter
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define IL_TYPE_RECORD_DIALOG (il_record_dialog_get_type ())
G_DECLARE_FINAL_TYPE (IlRecordDialog, il_record_dialog, IL, RECORD_DIALOG, AdwWindow)

/* "start" (python, argv, cwd) is emitted when Record is pressed (the
 * action record.start, also Ctrl+Return): argv is PROGRAM.py followed by
 * the arguments split as a shell would; then the dialog closes. */
GtkWidget  *il_record_dialog_new         (GtkWindow      *parent);
void        il_record_dialog_set_program (IlRecordDialog *self,
                                          const char     *path);
void        il_record_dialog_set_arguments (IlRecordDialog *self,
                                            const char     *arguments);

G_END_DECLS
