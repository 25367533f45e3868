int cleave_spawn_placeholder(void);
